package quasiroll.coordinator.http;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Scheduler;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import quasiroll.cluster.wire.ToCoordinator;
import quasiroll.common.error.BadInputException;
import quasiroll.coordinator.events.JobEventLog;
import quasiroll.coordinator.events.JobEventLogs;
import quasiroll.coordinator.job.JobManager;
import quasiroll.coordinator.job.JobSpecValidator;
import quasiroll.v1.DecodeParams;
import quasiroll.v1.JobEvent;
import quasiroll.v1.JobSpec;
import quasiroll.v1.JobState;
import quasiroll.v1.JobStatus;
import quasiroll.v1.Prompt;
import quasiroll.v1.SampleResult;
import quasiroll.v1.SamplerSpec;

/**
 * Runs HTTP generation requests through the same path as gRPC submits: a {@link JobSpec} checked by
 * the {@link JobSpecValidator} and queued with the {@link JobManager}; results are read from the
 * job's event log. One request = one job: prompt i of the request is prompt i of the job, its n
 * samples are indices index_offset .. index_offset + n - 1 of a coupled group of size group_size (=
 * n by default).
 */
public final class GenerationService {
  private static final Duration ASK_TIMEOUT = Duration.ofSeconds(15);
  private static final long LIVE_CACHE_NANOS = 1_000_000_000L;

  private final JobSpecValidator validator;
  private final ActorRef<ToCoordinator> jobManager;
  private final Scheduler scheduler;
  private final JobEventLogs logs;
  private final Executor validation;
  private final ModelCatalog catalog;
  private final HttpApiSettings settings;
  private final ChatRenderer chat;
  private final RequestCoalescer coalescer;

  /** Models ever seen live (or declared): absent ones are 404, these 503 while not live. */
  private final Set<String> knownModels = ConcurrentHashMap.newKeySet();

  private volatile Map<String, Integer> live = Map.of();
  private volatile long liveAtNanos;

  public GenerationService(
      JobSpecValidator validator,
      ActorRef<ToCoordinator> jobManager,
      Scheduler scheduler,
      JobEventLogs logs,
      Executor validation,
      ModelCatalog catalog,
      HttpApiSettings settings) {
    this.validator = validator;
    this.jobManager = jobManager;
    this.scheduler = scheduler;
    this.logs = logs;
    this.validation = validation;
    this.catalog = catalog;
    this.settings = settings;
    this.chat = new ChatRenderer();
    this.coalescer = new RequestCoalescer(this, settings.coalesceMaxPrompts());
    knownModels.addAll(settings.declaredModels());
  }

  /**
   * A queued job and what the response needs to know about it.
   *
   * @param responseId the response's id suffix: the job id, plus "-i" for the i-th request of a
   *     coalesced job
   * @param jobPromptIds null when the job is this request's alone; else, in the order of {@code
   *     prompts}, the ids its prompts have in the coalesced job
   */
  public record Submitted(
      String jobId,
      String responseId,
      JobEventLog log,
      GenerationRequest request,
      List<Prompt> prompts,
      List<String> promptTexts,
      long promptTokens,
      ModelCatalog.Entry model,
      long createdSeconds,
      List<String> jobPromptIds) {}

  public ModelCatalog catalog() {
    return catalog;
  }

  /** Models live workers hold now (model id -> worker count), at most a second old when present. */
  public CompletionStage<Map<String, Integer>> liveModels(boolean fresh) {
    if (!fresh && System.nanoTime() - liveAtNanos < LIVE_CACHE_NANOS) {
      return CompletableFuture.completedFuture(live);
    }
    CompletionStage<Map<String, Integer>> ask =
        AskPattern.ask(jobManager, JobManager.LiveModels::new, ASK_TIMEOUT, scheduler);
    return ask.thenApply(
        m -> {
          live = m;
          liveAtNanos = System.nanoTime();
          knownModels.addAll(m.keySet());
          return m;
        });
  }

  /** Published policy versions and what each live worker serves (the gRPC GetPolicyStatus). */
  public CompletionStage<quasiroll.v1.PolicyStatus> policyStatus() {
    return AskPattern.ask(
        jobManager, replyTo -> new JobManager.GetPolicyStatus("", replyTo), ASK_TIMEOUT, scheduler);
  }

  /** 404 / 503 unless a live worker holds the model. */
  public CompletionStage<Void> requireLive(String model) {
    return liveModels(false)
        .thenCompose(
            m -> m.containsKey(model) ? CompletableFuture.completedFuture(m) : liveModels(true))
        .thenAccept(
            m -> {
              if (!m.containsKey(model)) {
                if (knownModels.contains(model)) {
                  throw ApiError.noWorker(model);
                }
                throw ApiError.unknownModel(model, m.keySet());
              }
            });
  }

  public CompletionStage<Submitted> submit(GenerationRequest r) {
    return requireLive(r.model())
        .thenApplyAsync(v -> build(r), validation)
        .thenCompose(
            b -> {
              int samples = r.n() * b.job.prompts().size();
              if (!r.stream()
                  && samples <= settings.coalesceMaxSamples()
                  && b.job.prompts().size() <= settings.coalesceMaxPrompts()) {
                return coalescer.add(r, b);
              }
              return submitJob(b.job)
                  .thenApply(
                      jobId ->
                          new Submitted(
                              jobId,
                              jobId,
                              logs.get(jobId).orElseThrow(),
                              r,
                              b.job.prompts(),
                              b.promptTexts,
                              b.promptTokens,
                              b.model,
                              System.currentTimeMillis() / 1000,
                              null));
            });
  }

  /** Queues a validated job with the job manager; its id, or a 400 with the refusal. */
  CompletionStage<String> submitJob(quasiroll.coordinator.job.ValidatedJob job) {
    CompletionStage<JobManager.Submitted> reply =
        AskPattern.ask(
            jobManager,
            replyTo -> new JobManager.Submit(job, "http", replyTo),
            ASK_TIMEOUT,
            scheduler);
    return reply.thenApply(
        x -> {
          if (x.refusal() != null) {
            throw ApiError.badRequest(x.refusal());
          }
          return x.jobId();
        });
  }

  java.util.concurrent.Executor validationExecutor() {
    return validation;
  }

  JobEventLogs logs() {
    return logs;
  }

  JobSpecValidator validator() {
    return validator;
  }

  public CompletionStage<Optional<JobStatus>> cancel(String jobId) {
    return AskPattern.ask(
        jobManager, replyTo -> new JobManager.Cancel(jobId, replyTo), ASK_TIMEOUT, scheduler);
  }

  record Built(
      quasiroll.coordinator.job.ValidatedJob job,
      List<String> promptTexts,
      long promptTokens,
      ModelCatalog.Entry model) {}

  private Built build(GenerationRequest r) {
    ModelCatalog.Entry model = catalog.get(r.model());
    ModelTokenizer tok = model.tokenizer();
    JobSpec.Builder spec =
        JobSpec.newBuilder()
            .setModel(r.model())
            .setK(r.groupSize())
            .setIndexOffset(r.indexOffset())
            .setIndexCount(r.n())
            .setSeed(r.seed())
            .setName(r.user().isEmpty() ? "http" : "http user " + r.user())
            .setSampler(
                SamplerSpec.newBuilder().setKind(r.sampler()).putAllOptions(r.samplerOptions()));
    DecodeParams.Builder d =
        DecodeParams.newBuilder()
            .setTopLogprobs(Math.max(0, r.logprobs()))
            .setStreamProgress(r.stream())
            .setTopK(r.topK())
            .setMinP(r.minP())
            // prompt_only generates nothing; max_new_tokens 0 would mean "the default" (256).
            .setMaxNewTokens(r.promptOnly() ? 1 : r.maxTokens())
            .addAllStopStrings(r.stop())
            .addAllStopTokenIds(r.stopTokenIds());
    if (r.scoresPrompt() || r.promptOnly()) {
      d.setPromptLogprobs(Math.max(0, r.logprobs())).setPromptOnly(r.promptOnly());
    }
    if (r.temperature() != null) {
      d.setTemperature(r.temperature());
    }
    if (r.topP() != null) {
      d.setTopP(r.topP());
    }
    spec.setDecode(d);
    List<String> texts = new ArrayList<>();
    long promptTokens = 0;
    if (r.chat()) {
      if (tok == null) {
        throw ApiError.badField(
            "model", "model '" + r.model() + "' cannot serve chat: " + model.why());
      }
      String rendered = chat.render(r.model(), model, r.messages(), r.addGenerationPrompt());
      // As apply_chat_template(tokenize=True): the template writes BOS itself; no extra one.
      int[] ids = tok.encode(rendered);
      texts.add(rendered);
      promptTokens = ids.length;
      Prompt.Builder p = Prompt.newBuilder().setId(r.promptId(0, 1));
      for (int id : ids) {
        p.addTokenIds(id);
      }
      spec.addPrompts(p);
    } else {
      int count = r.prompts().size();
      for (int i = 0; i < count; i++) {
        GenerationRequest.PromptInput in = r.prompts().get(i);
        Prompt.Builder p = Prompt.newBuilder().setId(r.promptId(i, count));
        if (in.tokenIds() != null) {
          if (tok != null) {
            for (int id : in.tokenIds()) {
              if (id >= tok.vocabSize()) {
                throw ApiError.badField(
                    "prompt",
                    "prompt token id "
                        + id
                        + " is invalid: expected 0.."
                        + (tok.vocabSize() - 1)
                        + " (model '"
                        + r.model()
                        + "' vocabulary)");
              }
            }
          }
          for (int id : in.tokenIds()) {
            p.addTokenIds(id);
          }
          promptTokens += in.tokenIds().length;
          texts.add(r.echo() ? decodeForEcho(tok, in.tokenIds(), r.model()) : "");
        } else {
          if (in.text().isEmpty()) {
            throw ApiError.badField(
                "prompt", "prompt " + i + " is empty: expected non-empty text or token ids");
          }
          p.setText(in.text());
          promptTokens +=
              tok == null
                  ? 0
                  : tok.encodeWithBos(in.text())
                      .length; // as the worker encodes it (BOS per the tokenizer config)
          texts.add(in.text());
        }
        spec.addPrompts(p);
      }
    }
    try {
      return new Built(validator.validate(spec.build()), texts, promptTokens, model);
    } catch (BadInputException e) {
      throw ApiError.badRequest(e.getMessage());
    }
  }

  private static String decodeForEcho(ModelTokenizer tok, int[] ids, String model) {
    if (tok == null) {
      throw ApiError.badField(
          "echo",
          "echo with a token-id prompt needs the model's tokenizer, which the coordinator"
              + " cannot read for model '"
              + model
              + "'");
    }
    return tok.decode(ids);
  }

  /** Completes once the job is final (succeeded, failed or cancelled). */
  public static CompletableFuture<JobEventLog> whenFinished(JobEventLog log) {
    CompletableFuture<JobEventLog> done = new CompletableFuture<>();
    Runnable check =
        () -> {
          if (log.finished()) {
            done.complete(log);
          }
        };
    log.addListener(check);
    check.run();
    return done.whenComplete((l, e) -> log.removeListener(check));
  }

  /** The whole response of a non-streamed request, once its job is done. */
  public CompletionStage<ObjectNode> complete(Submitted s) {
    return whenFinished(s.log())
        .thenApply(
            log -> {
              List<SampleResult> results = new ArrayList<>();
              JobStatus last = null;
              for (int i = 0; i < log.size(); i++) {
                JobEvent e = log.get(i);
                if (e.hasSample()) {
                  SampleResult x = RequestCoalescer.ownSample(s, e.getSample());
                  if (x != null) {
                    results.add(x);
                  }
                } else if (e.hasStatus()) {
                  last = e.getStatus();
                }
              }
              requireSucceeded(last);
              return response(s, results);
            });
  }

  static void requireSucceeded(JobStatus last) {
    if (last == null || last.getState() != JobState.JOB_STATE_SUCCEEDED) {
      String why =
          last == null
              ? "no status"
              : last.getState() + (last.getError().isEmpty() ? "" : ": " + last.getError());
      throw new CompletionException(
          ApiError.internal("job " + (last == null ? "?" : last.getJobId()) + " ended " + why));
    }
  }

  /** Index of a result among the request's choices: prompt-major, then sample. */
  static int choiceIndex(Submitted s, SampleResult r) {
    return promptIndex(s, r.getPromptId()) * s.request().n()
        + (r.getIndex() - s.request().indexOffset());
  }

  static int promptIndex(Submitted s, String promptId) {
    List<Prompt> ps = s.prompts();
    for (int i = 0; i < ps.size(); i++) {
      if (ps.get(i).getId().equals(promptId)) {
        return i;
      }
    }
    throw new IllegalStateException("result for unknown prompt '" + promptId + "'");
  }

  ObjectNode response(Submitted s, Collection<SampleResult> results) {
    GenerationRequest r = s.request();
    ObjectNode root = JsonNodeFactory.instance.objectNode();
    root.put("id", (r.chat() ? "chatcmpl-" : "cmpl-") + s.responseId());
    root.put("object", r.chat() ? "chat.completion" : "text_completion");
    root.put("created", s.createdSeconds());
    root.put("model", r.model());
    root.put("seed", Long.toUnsignedString(r.seed()));
    ObjectNode[] choices = new ObjectNode[r.n() * s.prompts().size()];
    long completionTokens = 0;
    for (SampleResult x : results) {
      int idx = choiceIndex(s, x);
      choices[idx] = choice(s, x, idx);
      completionTokens += x.getTokenIdsCount();
    }
    ArrayNode arr = root.putArray("choices");
    for (ObjectNode c : choices) {
      arr.add(c);
    }
    root.set("usage", OpenAiFormat.usage(s.promptTokens(), completionTokens));
    return root;
  }

  ObjectNode choice(Submitted s, SampleResult x, int idx) {
    GenerationRequest r = s.request();
    ObjectNode c = JsonNodeFactory.instance.objectNode();
    c.put("index", idx);
    String[] pieces =
        r.logprobs() >= 0
            ? OpenAiFormat.tokenPieces(s.model().tokenizer(), x.getTokenIdsList())
            : null;
    if (r.chat()) {
      ObjectNode m = c.putObject("message");
      m.put("role", "assistant");
      m.put("content", x.getText());
      if (pieces != null) {
        c.set(
            "logprobs", OpenAiFormat.chatLogprobs(x, pieces, r.logprobs(), s.model().tokenizer()));
      } else {
        c.putNull("logprobs");
      }
    } else {
      String prefix = r.echo() ? s.promptTexts().get(promptIndex(s, x.getPromptId())) : "";
      c.put("text", prefix + x.getText());
      if (pieces != null && r.scoresPrompt()) {
        c.set(
            "logprobs",
            OpenAiFormat.echoedLogprobs(x, pieces, r.logprobs(), prefix, s.model().tokenizer()));
      } else if (pieces != null) {
        c.set(
            "logprobs",
            OpenAiFormat.completionLogprobs(
                x,
                pieces,
                r.logprobs(),
                prefix.codePointCount(0, prefix.length()),
                s.model().tokenizer()));
      } else {
        c.putNull("logprobs");
      }
    }
    c.put("finish_reason", OpenAiFormat.finishReason(x.getFinishReason()));
    OpenAiFormat.extras(c, x);
    return c;
  }
}
