// _derivative: act'(z) computed from the output v = act(z), for the
// activation codes of package backend: 0 identity 1, 1 sigmoid v(1-v),
// 2 relu [v > 0], 3 tanh 1-v².
fn derivative(v: f32, act: u32) -> f32 {
  switch act {
    case 1u: {
      return v * (1.0 - v);
    }
    case 2u: {
      return select(0.0, 1.0, v > 0.0);
    }
    case 3u: {
      return 1.0 - v * v;
    }
    default: {
      return 1.0;
    }
  }
}
