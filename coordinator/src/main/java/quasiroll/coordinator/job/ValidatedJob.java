package quasiroll.coordinator.job;

import java.nio.file.Path;
import java.util.List;
import quasiroll.coordinator.reward.RewardFunction;
import quasiroll.v1.JobSpec;
import quasiroll.v1.Prompt;

/**
 * A job spec that passed {@link JobSpecValidator}: prompts resolved (inline or read from the
 * data directory), verifiers looked up, the sink path resolved inside the output directory.
 *
 * @param rewards per prompt, its verifier or null
 * @param jsonlPath the JSONL sink, or null for none
 */
public record ValidatedJob(JobSpec spec, List<Prompt> prompts, List<RewardFunction> rewards, Path jsonlPath) {}
