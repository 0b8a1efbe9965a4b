package quasiroll.coordinator.job;

import java.nio.file.Path;
import java.util.List;
import quasiroll.common.task.Verifier;
import quasiroll.v1.JobSpec;
import quasiroll.v1.Prompt;

/**
 * A job spec that passed {@link JobSpecValidator}: prompts resolved (inline or read from the data
 * directory), verifiers looked up, the sink path resolved inside the output directory.
 *
 * @param verifiers per prompt, its verifier (metadata key "task") or null
 * @param jsonlPath the JSONL sink, or null for none
 */
public record ValidatedJob(
    JobSpec spec, List<Prompt> prompts, List<Verifier> verifiers, Path jsonlPath) {}
