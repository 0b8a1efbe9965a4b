package quasiroll.sweep;

import quasiroll.v1.Prompt;
import quasiroll.v1.SampleResult;

/**
 * Judges one sample of a sweep task. The sweep computes rewards itself, on whichever runner
 * produced the samples, so in-process and cluster runs are scored by the same code.
 */
public interface SampleScorer {
  /** Reward of {@code sample} for {@code prompt}; 1.0 or more counts as a pass. */
  double reward(Prompt prompt, SampleResult sample);

  /**
   * The sample's answer, for counting distinct answers: equal strings are the same answer. Default:
   * the generated text, or the token ids when the text is empty.
   */
  default String answer(Prompt prompt, SampleResult sample) {
    if (!sample.getText().isEmpty()) {
      return sample.getText();
    }
    StringBuilder b = new StringBuilder("tokens:");
    for (int t : sample.getTokenIdsList()) {
      b.append(' ').append(t);
    }
    return b.toString();
  }
}
