package data

// Standardize rescales the row-major rows x cols matrix v in place to zero
// mean and unit (population) standard deviation per column, and returns the
// means and standard deviations it removed, so that a value can be mapped
// back as value*std[j] + mean[j]. A constant column (standard deviation 0,
// or not finite) gets std 1, so it becomes all zeros. It panics if
// len(v) != rows*cols; rows == 0 returns zero means and unit deviations.
// Set.Standardize does the same for a whole set and remembers the scalers.
func Standardize(v []float64, rows, cols int) (mean, std []float64) {
	if len(v) != rows*cols || cols < 0 {
		panic("data: Standardize: len(v) != rows*cols")
	}
	mean = make([]float64, cols)
	std = make([]float64, cols)
	if rows == 0 {
		for j := range std {
			std[j] = 1
		}
		return mean, std
	}
	sc, err := FitScaler(v, cols)
	if err != nil {
		panic(err) // unreachable: sizes checked above
	}
	copy(mean, sc.Mean)
	copy(std, sc.Std)
	sc.Apply(v)
	return mean, std
}
