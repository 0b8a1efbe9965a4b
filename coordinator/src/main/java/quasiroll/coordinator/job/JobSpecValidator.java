package quasiroll.coordinator.job;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import quasiroll.cluster.ApiConversions;
import quasiroll.common.coupling.CouplingNoiseFactory;
import quasiroll.common.error.BadInputException;
import quasiroll.common.sampler.CouplingKind;
import quasiroll.common.sampler.DecodeParams;
import quasiroll.common.task.Verifier;
import quasiroll.common.task.registry.Verifiers;
import quasiroll.v1.JobSpec;
import quasiroll.v1.Prompt;
import quasiroll.v1.ZeroVarianceMode;

/**
 * Checks a job spec before anything is queued. Every refusal is a {@link BadInputException} naming
 * the field, the bad value and what is accepted (the API turns it into INVALID_ARGUMENT); a refused
 * spec never touches other jobs.
 *
 * <p>A prompt whose metadata has a {@code task} key gets that task's verifier ({@link Verifiers});
 * bad task parameters are refused here.
 *
 * <p>A model no live worker holds is NOT refused: workers may join later, and the job waits with a
 * visible waiting reason.
 */
public final class JobSpecValidator {
  private static final int MAX_PROMPT_ID_BYTES = 256;

  /** The most alternatives per token a job may ask for (OpenAI's limit too). */
  public static final int MAX_TOP_LOGPROBS = 20;

  private static final int MAX_MODEL_ID_CHARS = 1024;
  private static final ObjectMapper JSON = new ObjectMapper();

  private final JobLimits limits;
  private final Path dataDir;
  private final Path outputDir;

  public JobSpecValidator(JobLimits limits, Path dataDir, Path outputDir) {
    this.limits = limits;
    this.dataDir = dataDir.toAbsolutePath().normalize();
    this.outputDir = outputDir.toAbsolutePath().normalize();
  }

  /**
   * zero_variance GROW needs a sampler whose k-point group is the first k points of its 2k-point
   * group (docs/rl.md), and the whole group (a job running a slice of the indices cannot grow it).
   */
  private static void checkZeroVariance(JobSpec spec) {
    if (spec.getZeroVariance() != ZeroVarianceMode.ZERO_VARIANCE_GROW) {
      return;
    }
    String name = spec.getSampler().getKind().isEmpty() ? "iid" : spec.getSampler().getKind();
    CouplingKind kind = CouplingKind.parse(name);
    List<String> growable =
        CouplingNoiseFactory.EXTENSIBLE.stream().map(CouplingKind::shortName).sorted().toList();
    if (!CouplingNoiseFactory.EXTENSIBLE.contains(kind)) {
      throw new BadInputException(
          "zero_variance GROW with sampler '"
              + kind.shortName()
              + "' is invalid: its groups cannot grow keeping the samples already drawn; expected"
              + " one of "
              + growable
              + " (docs/rl.md says why), or zero_variance KEEP or DROP");
    }
    if (kind == CouplingKind.ANTITHETIC && spec.getK() % 2 != 0) {
      throw new BadInputException(
          "zero_variance GROW with sampler 'antithetic' and k "
              + spec.getK()
              + " is invalid: antithetic groups grow only from an even k");
    }
    if (spec.getIndexOffset() != 0
        || (spec.getIndexCount() != 0 && spec.getIndexCount() != spec.getK())) {
      throw new BadInputException(
          "zero_variance GROW with index_offset "
              + spec.getIndexOffset()
              + " and index_count "
              + spec.getIndexCount()
              + " is invalid: a group grows only when the job runs all of it (index_offset 0,"
              + " index_count 0 or k)");
    }
    if (spec.getGrowMaxK() < 0
        || (spec.getGrowMaxK() > 0 && spec.getGrowMaxK() < 2 * spec.getK())) {
      throw new BadInputException(
          "grow_max_k "
              + spec.getGrowMaxK()
              + " is invalid: expected 0 (default 4k = "
              + 4L * spec.getK()
              + ") or at least 2k = "
              + 2L * spec.getK());
    }
  }

  public ValidatedJob validate(JobSpec spec) {
    return validate(spec, false);
  }

  /**
   * @param resuming true for a spec read back from the job store after a restart: its sink file
   *     exists (it is this job's own, reopened at its committed length)
   */
  public ValidatedJob validate(JobSpec spec, boolean resuming) {
    if (spec.getModel().isBlank() || spec.getModel().length() > MAX_MODEL_ID_CHARS) {
      throw new BadInputException(
          "model '"
              + spec.getModel()
              + "' is invalid: expected a non-empty model id as registered by workers");
    }
    if (spec.getK() < 1 || spec.getK() > limits.maxK()) {
      throw new BadInputException(
          "k "
              + spec.getK()
              + " is invalid: expected 1.."
              + limits.maxK()
              + " (quasiroll.limits.max-k)");
    }
    if (spec.getIndexOffset() < 0 || spec.getIndexOffset() >= spec.getK()) {
      throw new BadInputException(
          "index_offset "
              + spec.getIndexOffset()
              + " is invalid: expected 0.."
              + (spec.getK() - 1)
              + " (below k "
              + spec.getK()
              + ")");
    }
    if (spec.getIndexCount() < 0 || spec.getIndexOffset() + spec.getIndexCount() > spec.getK()) {
      throw new BadInputException(
          "index_count "
              + spec.getIndexCount()
              + " is invalid: expected 0 (all from index_offset) or 1.."
              + (spec.getK() - spec.getIndexOffset())
              + " (index_offset + index_count <= k "
              + spec.getK()
              + ")");
    }
    // The sampler's own rules (CouplingNoiseFactory.check is what every worker's noise factory
    // applies),
    // so an option a worker would refuse is refused here, once, instead of on every shard.
    CouplingNoiseFactory.check(ApiConversions.samplerSpec(spec.getSampler()), spec.getK());
    checkZeroVariance(spec);
    if (spec.getDecode().hasTemperature() && !(spec.getDecode().getTemperature() >= 0)) {
      throw new BadInputException(
          "temperature "
              + spec.getDecode().getTemperature()
              + " is invalid: expected a finite number >= 0 (0 = greedy)");
    }
    if (spec.getDecode().getMaxNewTokens() < 0
        || spec.getDecode().getMaxNewTokens() > limits.maxNewTokens()) {
      throw new BadInputException(
          "max_new_tokens "
              + spec.getDecode().getMaxNewTokens()
              + " is invalid: expected 1.."
              + limits.maxNewTokens()
              + " (0 = default "
              + DecodeParams.DEFAULT.maxNewTokens()
              + ")");
    }
    ApiConversions.decodeParams(spec.getDecode(), spec.getSampler());
    if (spec.getDecode().getTopLogprobs() < 0
        || spec.getDecode().getTopLogprobs() > MAX_TOP_LOGPROBS) {
      throw new BadInputException(
          "top_logprobs "
              + spec.getDecode().getTopLogprobs()
              + " is invalid: expected 0 (off).."
              + MAX_TOP_LOGPROBS);
    }
    if (spec.getDecode().hasPromptLogprobs()
        && (spec.getDecode().getPromptLogprobs() < 0
            || spec.getDecode().getPromptLogprobs() > MAX_TOP_LOGPROBS)) {
      throw new BadInputException(
          "prompt_logprobs "
              + spec.getDecode().getPromptLogprobs()
              + " is invalid: expected 0.."
              + MAX_TOP_LOGPROBS
              + " (or unset: the prompt is not scored)");
    }
    if (spec.getDecode().getPromptOnly() && !spec.getDecode().hasPromptLogprobs()) {
      throw new BadInputException(
          "prompt_only needs prompt_logprobs: a job that generates nothing must score its"
              + " prompts");
    }
    checkStops(spec.getDecode());

    List<Prompt> prompts = resolvePrompts(spec);
    List<Verifier> verifiers = new ArrayList<>(prompts.size());
    Set<String> ids = new HashSet<>();
    for (int i = 0; i < prompts.size(); i++) {
      Prompt p = prompts.get(i);
      checkPrompt(i, p);
      checkShardSize(i, p, spec);
      if (!ids.add(p.getId())) {
        throw new BadInputException(
            "prompts["
                + i
                + "].id '"
                + p.getId()
                + "' is a duplicate: prompt ids must be unique within a job");
      }
      if (!Verifiers.requested(p.getMetadataMap())) {
        verifiers.add(null);
        continue;
      }
      try {
        verifiers.add(Verifiers.forPrompt(p.getId(), p.getText(), p.getMetadataMap()));
      } catch (BadInputException e) {
        throw new BadInputException("prompts[" + i + "]: " + e.getMessage(), e);
      }
    }
    return new ValidatedJob(
        spec, List.copyOf(prompts), verifiers, sinkPath(spec.getSinks().getJsonlPath(), resuming));
  }

  private void checkStops(quasiroll.v1.DecodeParams d) {
    if (d.getStopStringsCount() > limits.maxStopStrings()) {
      throw new BadInputException(
          "stop_strings has "
              + d.getStopStringsCount()
              + " entries: expected at most "
              + limits.maxStopStrings()
              + " (quasiroll.limits.max-stop-strings)");
    }
    long bytes = 0;
    for (int i = 0; i < d.getStopStringsCount(); i++) {
      String s = d.getStopStrings(i);
      if (s.isEmpty()) {
        throw new BadInputException(
            "stop_strings[" + i + "] is empty: expected a non-empty string");
      }
      bytes += s.getBytes(StandardCharsets.UTF_8).length;
    }
    if (bytes > limits.maxStopBytes()) {
      throw new BadInputException(
          "stop_strings total "
              + bytes
              + " UTF-8 bytes: expected at most "
              + limits.maxStopBytes()
              + " (quasiroll.limits.max-stop-bytes)");
    }
    for (int i = 0; i < d.getStopTokenIdsCount(); i++) {
      if (d.getStopTokenIds(i) < 0) {
        throw new BadInputException(
            "stop_token_ids["
                + i
                + "] "
                + d.getStopTokenIds(i)
                + " is invalid: expected a token id >= 0");
      }
    }
  }

  /**
   * An upper bound of the bytes one shard assignment of prompt {@code p} takes on the cluster
   * transport (Kryo, see KryoClusterSerializer): strings at most 3 bytes per UTF-16 unit plus a
   * 5-byte length, ints at most 5 bytes (varints), protobuf fields as their wire size plus a 5-byte
   * length, and 256 bytes for ids, k, the seed and framing. A shard holds at most k indices.
   */
  static long shardMessageBound(Prompt p, JobSpec spec) {
    long bound = 256;
    bound += 3L * p.getId().length() + 5;
    bound += 3L * p.getText().length() + 5;
    bound += 5L * p.getTokenIdsCount() + 5;
    bound += 5L * spec.getK() + 5;
    bound += spec.getSampler().getSerializedSize() + 5;
    bound += spec.getDecode().getSerializedSize() + 5;
    return bound;
  }

  private void checkShardSize(int i, Prompt p, JobSpec spec) {
    long bound = shardMessageBound(p, spec);
    if (bound > limits.maxShardMessageBytes()) {
      throw new BadInputException(
          "prompts["
              + i
              + "] (id '"
              + p.getId()
              + "') makes shard messages of up to "
              + bound
              + " bytes with k="
              + spec.getK()
              + " and these sampler/decode settings: expected at most "
              + limits.maxShardMessageBytes()
              + " (quasiroll.limits.max-shard-message-bytes, below the"
              + " cluster frame limit); shorten the prompt or stop strings");
    }
  }

  private void checkPrompt(int i, Prompt p) {
    int idBytes = p.getId().getBytes(StandardCharsets.UTF_8).length;
    if (idBytes < 1 || idBytes > MAX_PROMPT_ID_BYTES) {
      throw new BadInputException(
          "prompts["
              + i
              + "].id '"
              + p.getId()
              + "' is invalid: expected 1.."
              + MAX_PROMPT_ID_BYTES
              + " UTF-8 bytes");
    }
    if (p.getTokenIdsCount() == 0 && p.getText().isEmpty()) {
      throw new BadInputException(
          "prompts[" + i + "] (id '" + p.getId() + "') is empty: expected text or token_ids");
    }
    for (int t = 0; t < p.getTokenIdsCount(); t++) {
      if (p.getTokenIds(t) < 0) {
        throw new BadInputException(
            "prompts["
                + i
                + "] (id '"
                + p.getId()
                + "') token_ids["
                + t
                + "] "
                + p.getTokenIds(t)
                + " is invalid: expected a token id >= 0 (and below the model's vocabulary size)");
      }
    }
    int bytes =
        p.getTokenIdsCount() > 0
            ? 4 * p.getTokenIdsCount()
            : p.getText().getBytes(StandardCharsets.UTF_8).length;
    if (bytes > limits.maxPromptBytes()) {
      throw new BadInputException(
          "prompts["
              + i
              + "] (id '"
              + p.getId()
              + "') is "
              + bytes
              + " bytes: expected at most "
              + limits.maxPromptBytes()
              + " (quasiroll.limits.max-prompt-bytes; token ids count 4 bytes each)");
    }
  }

  private List<Prompt> resolvePrompts(JobSpec spec) {
    boolean inline = spec.getPromptsCount() > 0;
    boolean file = !spec.getPromptsPath().isEmpty();
    if (inline && file) {
      throw new BadInputException(
          "prompts and prompts_path are both set: expected exactly one of them");
    }
    List<Prompt> prompts = file ? readPromptFile(spec.getPromptsPath()) : spec.getPromptsList();
    if (prompts.isEmpty()) {
      throw new BadInputException(
          "the job has no prompts: expected inline prompts or a non-empty prompts_path");
    }
    if (prompts.size() > limits.maxPrompts()) {
      throw new BadInputException(
          "the job has "
              + prompts.size()
              + " prompts: expected at most "
              + limits.maxPrompts()
              + " (quasiroll.limits.max-prompts)");
    }
    return prompts;
  }

  private List<Prompt> readPromptFile(String relative) {
    Path path = inside(dataDir, relative, "prompts_path");
    if (!Files.isRegularFile(path)) {
      throw new BadInputException(
          "prompts_path '" + relative + "' is not a file in the data directory " + dataDir);
    }
    List<Prompt> prompts = new ArrayList<>();
    try (BufferedReader in = Files.newBufferedReader(path, StandardCharsets.UTF_8)) {
      String line;
      int lineNo = 0;
      while ((line = in.readLine()) != null) {
        lineNo++;
        if (line.isBlank()) {
          continue;
        }
        prompts.add(parsePromptLine(line, relative, lineNo));
        if (prompts.size() > limits.maxPrompts()) {
          break; // the count check in resolvePrompts reports it
        }
      }
    } catch (IOException e) {
      throw new BadInputException(
          "prompts_path '" + relative + "' cannot be read: " + e.getMessage(), e);
    }
    return prompts;
  }

  /** One line of a prompts file: {"id": ..., "prompt": ... (or "text"), "metadata": {...}}. */
  public static Prompt parsePromptLine(String line, String file, int lineNo) {
    JsonNode n;
    try {
      n = JSON.readTree(line);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new BadInputException(file + ":" + lineNo + " is not JSON: " + e.getOriginalMessage());
    }
    if (n == null || !n.isObject() || !n.path("id").isTextual()) {
      throw new BadInputException(
          file
              + ":"
              + lineNo
              + " is invalid: expected {\"id\": \"...\", \"prompt\": \"...\", \"metadata\":"
              + " {...}}");
    }
    Prompt.Builder b = Prompt.newBuilder().setId(n.get("id").asText());
    JsonNode text = n.has("prompt") ? n.get("prompt") : n.get("text");
    if (text != null && text.isTextual()) {
      b.setText(text.asText());
    }
    for (JsonNode t : n.path("token_ids")) {
      b.addTokenIds(t.asInt());
    }
    for (Iterator<Map.Entry<String, JsonNode>> it = n.path("metadata").fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      b.putMetadata(
          e.getKey(), e.getValue().isTextual() ? e.getValue().asText() : e.getValue().toString());
    }
    return b.build();
  }

  /**
   * Sinks never overwrite: an existing path is refused (pick a new name). The job manager creates
   * the file with CREATE_NEW, which settles a race between two jobs naming the same new path.
   */
  private Path sinkPath(String relative, boolean resuming) {
    if (relative.isEmpty()) {
      return null;
    }
    Path path = inside(outputDir, relative, "sinks.jsonl_path");
    if (resuming) {
      return path;
    }
    if (Files.isDirectory(path)) {
      throw new BadInputException(
          "sinks.jsonl_path '" + relative + "' is a directory: expected a new file name");
    }
    if (Files.exists(path)) {
      throw new BadInputException(
          "sinks.jsonl_path '"
              + relative
              + "' already exists in "
              + outputDir
              + ": sinks never overwrite or append to an existing file; choose a new name");
    }
    for (Path parent = path.getParent();
        parent != null && !parent.equals(outputDir.getParent());
        parent = parent.getParent()) {
      if (Files.exists(parent) && !Files.isDirectory(parent)) {
        throw new BadInputException(
            "sinks.jsonl_path '"
                + relative
                + "' is under "
                + parent
                + ", which is a file: expected a directory");
      }
    }
    return path;
  }

  /** {@code relative} resolved inside {@code root}; absolute paths and escapes are refused. */
  private static Path inside(Path root, String relative, String field) {
    return quasiroll.coordinator.paths.DataPaths.inside(root, relative, field);
  }
}
