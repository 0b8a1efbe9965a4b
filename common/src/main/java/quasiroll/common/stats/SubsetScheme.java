package quasiroll.common.stats;

/**
 * How statistics of a group of k samples are estimated from groups of K >= k samples that were
 * actually drawn. Only schemes whose sub-groups have exactly the distribution of a freshly drawn
 * group of k are offered; anything else must be run at k itself.
 */
public enum SubsetScheme {
  /**
   * Independent samples. Any k of n i.i.d. samples are k i.i.d. samples, so the average of a
   * statistic over ALL k-subsets of the n samples (a U-statistic) is unbiased for its value on a
   * group of k. Replicates of an i.i.d. sampler are pooled (n = replicates x K). Closed forms:
   * pass@k = 1 - C(n-c,k)/C(n,k); expected distinct answers = sum over answers a of 1 -
   * C(n-m_a,k)/C(n,k); P(zero variance) = sum over reward values v of C(m_v,k)/C(n,k).
   */
  ALL_SUBSETS,
  /**
   * A randomly shifted lattice of K = 2^L carried codes c_i = (i/K + D) mod 1. The stride-s subset
   * {r, r+s, r+2s, ...} with s = K/k has codes (m/k + (D + r/K)) mod 1: a lattice of k = 2^(L-j)
   * points with a uniformly distributed shift, i.e. exactly a randomized lattice of size k. The
   * estimate averages the statistic over the s stride subsets of each group, then over replicates.
   * Needs k and K powers of two.
   */
  STRIDE,
  /**
   * No sub-group is a valid smaller group: the group must have been drawn at k; replicates are
   * averaged.
   */
  WHOLE_GROUP
}
