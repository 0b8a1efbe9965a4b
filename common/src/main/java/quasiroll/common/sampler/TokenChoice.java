package quasiroll.common.sampler;

/**
 * One selected token with its log-probabilities (natural log): under the raw model (softmax of the
 * logits at temperature 1, no truncation) and under the processed distribution the token was
 * actually drawn from.
 */
public record TokenChoice(int token, float rawLogprob, float processedLogprob) {}
