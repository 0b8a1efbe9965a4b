package quasiroll.worker.policy;

import java.util.Arrays;
import quasiroll.worker.model.DType;

/** A weight's name, stored dtype and PyTorch shape: what a published tensor must match. */
public record TensorSpec(String name, DType dtype, long[] shape) {
  public TensorSpec {
    shape = shape.clone();
  }

  @Override
  public long[] shape() {
    return shape.clone();
  }

  /** e.g. {@code F32[512, 192]}. */
  public String describe() {
    return dtype + Arrays.toString(shape);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TensorSpec t
        && t.name.equals(name)
        && t.dtype == dtype
        && Arrays.equals(t.shape, shape);
  }

  @Override
  public int hashCode() {
    return name.hashCode() * 31 + Arrays.hashCode(shape);
  }

  @Override
  public String toString() {
    return name + ": " + describe();
  }
}
