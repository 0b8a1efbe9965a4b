package quasiroll.common.sampler;

import java.util.Arrays;
import java.util.Locale;
import quasiroll.common.error.BadInputException;

/**
 * The order in which the vocabulary is laid along the CDF that a code is mapped through. It does
 * not change any single sample's distribution, only how the k samples relate.
 */
public enum VocabOrder {
  /** By token id. */
  ID,
  /** By descending processed probability (ties by id): coupled codes spread over modes. */
  PROB,
  /** A seeded permutation per step, shared by the whole group (keyed by prompt seed, step). */
  PERMUTED;

  public String shortName() {
    return name().toLowerCase(Locale.ROOT);
  }

  public static VocabOrder parse(String s) {
    for (VocabOrder o : values()) {
      if (o.shortName().equals(s)) {
        return o;
      }
    }
    throw new BadInputException(
        "vocab order '"
            + s
            + "' is unknown: expected one of "
            + Arrays.toString(Arrays.stream(values()).map(VocabOrder::shortName).toArray()));
  }
}
