package quasiroll.worker.model.gguf;

import java.util.Map;
import quasiroll.worker.model.DType;

/** ggml tensor type ids (ggml.h {@code enum ggml_type}) and which of them quasiroll reads. */
public final class GgmlType {
  private GgmlType() {}

  public static final int F32 = 0;
  public static final int F16 = 1;
  public static final int Q4_0 = 2;
  public static final int Q8_0 = 8;
  public static final int Q4_K = 12;
  public static final int Q6_K = 14;
  public static final int BF16 = 30;

  /** Names of every type in ggml.h, so a refusal can say which type a file uses. */
  private static final Map<Integer, String> NAMES =
      Map.ofEntries(
          Map.entry(0, "F32"),
          Map.entry(1, "F16"),
          Map.entry(2, "Q4_0"),
          Map.entry(3, "Q4_1"),
          Map.entry(6, "Q5_0"),
          Map.entry(7, "Q5_1"),
          Map.entry(8, "Q8_0"),
          Map.entry(9, "Q8_1"),
          Map.entry(10, "Q2_K"),
          Map.entry(11, "Q3_K"),
          Map.entry(12, "Q4_K"),
          Map.entry(13, "Q5_K"),
          Map.entry(14, "Q6_K"),
          Map.entry(15, "Q8_K"),
          Map.entry(16, "IQ2_XXS"),
          Map.entry(17, "IQ2_XS"),
          Map.entry(18, "IQ3_XXS"),
          Map.entry(19, "IQ1_S"),
          Map.entry(20, "IQ4_NL"),
          Map.entry(21, "IQ3_S"),
          Map.entry(22, "IQ2_S"),
          Map.entry(23, "IQ4_XS"),
          Map.entry(24, "I8"),
          Map.entry(25, "I16"),
          Map.entry(26, "I32"),
          Map.entry(27, "I64"),
          Map.entry(28, "F64"),
          Map.entry(29, "IQ1_M"),
          Map.entry(30, "BF16"),
          Map.entry(34, "TQ1_0"),
          Map.entry(35, "TQ2_0"),
          Map.entry(39, "MXFP4"));

  public static String name(int type) {
    return NAMES.getOrDefault(type, "unknown type " + type);
  }

  /** The DType for a ggml type, or null when quasiroll cannot compute with it. */
  public static DType toDType(int type) {
    return switch (type) {
      case F32 -> DType.F32;
      case F16 -> DType.F16;
      case BF16 -> DType.BF16;
      case Q8_0 -> DType.Q8_0;
      case Q4_0 -> DType.Q4_0;
      case Q4_K -> DType.Q4_K;
      case Q6_K -> DType.Q6_K;
      default -> null;
    };
  }

  public static int fromDType(DType d) {
    return switch (d) {
      case F32 -> F32;
      case F16 -> F16;
      case BF16 -> BF16;
      case Q8_0 -> Q8_0;
      case Q4_0 -> Q4_0;
      case Q4_K -> Q4_K;
      case Q6_K -> Q6_K;
    };
  }

  public static final String SUPPORTED = "F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q6_K";
}
