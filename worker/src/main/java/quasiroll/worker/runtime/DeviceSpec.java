package quasiroll.worker.runtime;

import quasiroll.common.error.BadInputException;

/**
 * Where a model runs: {@code cpu} or {@code cuda:N} (the N-th CUDA device as the driver numbers
 * them; {@code cuda} alone is {@code cuda:0}). Parsing touches no GPU library, so CPU-only machines
 * never load JCuda.
 */
public record DeviceSpec(Kind kind, int index) {
  public enum Kind {
    CPU,
    CUDA
  }

  public static final DeviceSpec CPU = new DeviceSpec(Kind.CPU, 0);

  public static DeviceSpec parse(String s) {
    String v = s == null ? "" : s.trim();
    if (v.equals("cpu")) {
      return CPU;
    }
    if (v.equals("cuda")) {
      return new DeviceSpec(Kind.CUDA, 0);
    }
    if (v.startsWith("cuda:")) {
      String n = v.substring(5);
      if (n.matches("[0-9]{1,3}")) {
        return new DeviceSpec(Kind.CUDA, Integer.parseInt(n));
      }
    }
    throw new BadInputException(
        "device '" + s + "' is unknown: expected cpu, cuda or cuda:N (N = GPU index, e.g. cuda:0)");
  }

  public boolean isCuda() {
    return kind == Kind.CUDA;
  }

  @Override
  public String toString() {
    return kind == Kind.CPU ? "cpu" : "cuda:" + index;
  }
}
