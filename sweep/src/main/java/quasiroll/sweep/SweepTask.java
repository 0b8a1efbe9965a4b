package quasiroll.sweep;

import java.util.List;
import quasiroll.v1.Prompt;

/** A task ready to run: its prompts (ids unique within the task) and how samples are judged. */
public record SweepTask(String name, List<Prompt> prompts, SampleScorer scorer) {
  public SweepTask {
    prompts = List.copyOf(prompts);
  }
}
