package quasiroll.common.stats;

/**
 * Task-level estimate from per-prompt estimates: their mean, with a Wilson score interval over the
 * prompts.
 *
 * <p>What the interval is about: the prompts are treated as a random sample of the task, so the
 * interval covers the task's expected per-prompt value (e.g. pass@k), including the
 * prompt-to-prompt spread as well as the sampling noise. Each per-prompt value lies in [0, 1] and
 * the prompts are independent, so the Wilson interval over n prompts is valid and conservative (see
 * {@link WilsonInterval}).
 */
public final class PromptMean {
  private PromptMean() {}

  public static ConfidenceInterval of(double[] perPrompt, double level) {
    if (perPrompt.length == 0) {
      throw new IllegalArgumentException("no prompts to average");
    }
    double s = 0;
    for (double v : perPrompt) {
      if (!(v >= 0 && v <= 1)) {
        throw new IllegalArgumentException("per-prompt value " + v + " is not in [0, 1]");
      }
      s += v;
    }
    double mean = Math.min(1, Math.max(0, s / perPrompt.length));
    return WilsonInterval.of(mean, perPrompt.length, level);
  }
}
