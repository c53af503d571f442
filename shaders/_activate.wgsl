// _activate: act(z) for the activation codes of package backend:
// 0 identity, 1 sigmoid, 2 relu, 3 tanh.
//!include _sigmoid

fn activate(z: f32, act: u32) -> f32 {
  switch act {
    case 1u: {
      return sigmoid(z);
    }
    case 2u: {
      return max(z, 0.0);
    }
    case 3u: {
      // tanh(±9) is ±1 in float32; clamping keeps drivers whose tanh is
      // built from exp from returning NaN for large |z|.
      return tanh(clamp(z, -9.0, 9.0));
    }
    default: {
      return z;
    }
  }
}
