package quasiroll.common.sampler;

/**
 * The most probable tokens of one step's processed distribution, most probable first (ties: lower
 * id first): {@code ids[i]} has natural-log probability {@code logprobs[i]}.
 */
public record TopTokens(int[] ids, float[] logprobs) {}
