"""The deterministic generator shared by the peers and gputrain's benchmarks.

splitmix64, bit for bit as bench/benchstep's RNG, so that numpy, PyTorch and
gputrain start the seed preset from the same data and weights.
"""

M64 = (1 << 64) - 1


class RNG:
    """splitmix64, bit for bit as benchstep.RNG."""

    def __init__(self, seed):
        self.s = seed & M64

    def u64(self):
        self.s = (self.s + 0x9E3779B97F4A7C15) & M64
        z = self.s
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
        return z ^ (z >> 31)

    def f64(self):
        return float(self.u64() >> 11) * 2.0**-53


def xavier_values(r, fan_in, fan_out):
    """fan_in*fan_out Glorot-uniform draws, row-major: nn.InitParamsFrom's InitXavier,
    (2u-1)*sqrt(6/(in+out)), with u = RNG.f64() (benchstep.Source hands nn this
    generator's top 53 bits, so its rand.Rand.Float64 is f64). Layer after layer
    from one generator, as benchstep.New draws them."""
    lim = (6.0 / (fan_in + fan_out)) ** 0.5
    return [(2 * r.f64() - 1) * lim for _ in range(fan_in * fan_out)]
