package quasiroll.cli;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import quasiroll.common.error.BadInputException;
import quasiroll.coordinator.job.JobSpecValidator;
import quasiroll.coordinator.sink.SampleJsonl;
import quasiroll.sweep.EventBatches;
import quasiroll.v1.DecodeParams;
import quasiroll.v1.JobEvent;
import quasiroll.v1.JobSpec;
import quasiroll.v1.JobState;
import quasiroll.v1.JobStatus;
import quasiroll.v1.OutputSinks;
import quasiroll.v1.Prompt;
import quasiroll.v1.QuasirollServiceGrpc;
import quasiroll.v1.SampleResult;
import quasiroll.v1.SamplerSpec;
import quasiroll.v1.StreamJobRequest;
import quasiroll.v1.SubmitJobRequest;

@Command(
    name = "submit",
    mixinStandardHelpOptions = true,
    description = {
      "Submits a job to a coordinator and streams its samples to a JSONL file (one line per",
      "sample; each prompt's k lines together, in index order, once the group is complete),",
      "with a live progress line on stderr. Resumes the stream from the last event after a",
      "dropped connection. Exit 0 when the job succeeded, 1 when it failed or was cancelled."
    })
final class SubmitCommand implements Callable<Integer> {
  @Mixin ClientOptions client;

  @Option(
      names = "--prompts",
      required = true,
      paramLabel = "FILE",
      description = "JSONL prompts: {\"id\":...,\"prompt\":...,\"metadata\":{...}} per line.")
  Path prompts;

  @Option(
      names = "--model",
      required = true,
      description = "Model id the workers registered under.")
  String model;

  @Option(names = "-k", required = true, description = "Samples per prompt.")
  int k;

  @Option(
      names = "--sampler",
      defaultValue = "iid",
      description =
          "iid, antithetic, lattice, stratified, sobol, rank1 or lhs (default: ${DEFAULT-VALUE}).")
  String sampler;

  @Option(
      names = "--sampler-option",
      paramLabel = "KEY=VALUE",
      description = "Sampler option, e.g. scramble=owen or vocab_order=prob (repeatable).")
  Map<String, String> samplerOptions = new TreeMap<>();

  @Option(
      names = "--temperature",
      description = "Softmax temperature >= 0; 0 = greedy (default 1).")
  Float temperature;

  @Option(names = "--top-k", defaultValue = "0", description = "Keep the top-k tokens; 0 = off.")
  int topK;

  @Option(names = "--top-p", description = "Nucleus mass in (0, 1]; default 1 = off.")
  Float topP;

  @Option(
      names = "--min-p",
      defaultValue = "0",
      description = "Drop tokens below min-p times the top probability; 0 = off.")
  float minP;

  @Option(
      names = "--max-new-tokens",
      defaultValue = "256",
      description = "Most generated tokens per sample (default: ${DEFAULT-VALUE}).")
  int maxNewTokens;

  @Option(names = "--stop", paramLabel = "STRING", description = "Stop string (repeatable).")
  List<String> stops = new ArrayList<>();

  @Option(
      names = "--seed",
      defaultValue = "0",
      description = "Job seed: all noise derives from it (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--name", defaultValue = "", description = "Job name for status and logs.")
  String name;

  @Option(
      names = "--server-jsonl",
      defaultValue = "",
      paramLabel = "PATH",
      description = "Also write a JSONL sink on the coordinator, relative to its output dir.")
  String serverJsonl;

  @Option(
      names = "--out",
      required = true,
      paramLabel = "FILE.jsonl",
      description = "Where to write the samples.")
  Path out;

  @Override
  public Integer call() throws Exception {
    JobSpec spec = spec();
    ManagedChannel channel = client.channel();
    try (BufferedWriter w = Files.newBufferedWriter(out, StandardCharsets.UTF_8)) {
      return run(QuasirollServiceGrpc.newBlockingStub(channel), spec, w);
    } finally {
      channel.shutdownNow().awaitTermination(2, TimeUnit.SECONDS);
    }
  }

  private JobSpec spec() throws IOException {
    List<Prompt> list = new ArrayList<>();
    if (!Files.isRegularFile(prompts)) {
      throw new BadInputException("--prompts '" + prompts + "' is not a file");
    }
    try (BufferedReader in = Files.newBufferedReader(prompts, StandardCharsets.UTF_8)) {
      String line;
      int n = 0;
      while ((line = in.readLine()) != null) {
        n++;
        if (!line.isBlank()) {
          list.add(JobSpecValidator.parsePromptLine(line, prompts.toString(), n));
        }
      }
    }
    DecodeParams.Builder d =
        DecodeParams.newBuilder()
            .setTopK(topK)
            .setMinP(minP)
            .setMaxNewTokens(maxNewTokens)
            .addAllStopStrings(stops);
    if (temperature != null) {
      d.setTemperature(temperature);
    }
    if (topP != null) {
      d.setTopP(topP);
    }
    return JobSpec.newBuilder()
        .setModel(model)
        .addAllPrompts(list)
        .setK(k)
        .setSampler(SamplerSpec.newBuilder().setKind(sampler).putAllOptions(samplerOptions))
        .setDecode(d)
        .setSeed(seed)
        .setName(name)
        .setSinks(OutputSinks.newBuilder().setJsonlPath(serverJsonl))
        .build();
  }

  private int run(
      QuasirollServiceGrpc.QuasirollServiceBlockingStub stub, JobSpec spec, BufferedWriter w)
      throws IOException, InterruptedException {
    String jobId;
    try {
      jobId = stub.submitJob(SubmitJobRequest.newBuilder().setSpec(spec).build()).getJobId();
    } catch (StatusRuntimeException e) {
      throw GrpcErrors.translate(e, client.coordinator);
    }
    System.err.println("quasiroll: job " + jobId + " submitted");
    ProgressLine progress = new ProgressLine(System.err, System.console() != null);
    Map<String, List<SampleResult>> pending = new HashMap<>();
    long next = 0;
    long samples = 0;
    long tokens = 0;
    int groups = 0;
    JobStatus last = null;
    int retries = 0;
    boolean batches = true;
    while (last == null || !quasiroll.coordinator.events.JobEventLog.isFinal(last.getState())) {
      try {
        StreamJobRequest from =
            StreamJobRequest.newBuilder().setJobId(jobId).setFromOffset(next).build();
        Iterator<JobEvent> it =
            batches ? EventBatches.flatten(stub.streamJobBatches(from)) : stub.streamJob(from);
        while (it.hasNext()) {
          JobEvent e = it.next();
          next = e.getOffset() + 1;
          retries = 0;
          switch (e.getEventCase()) {
            case SAMPLE -> {
              SampleResult r = e.getSample();
              pending.computeIfAbsent(r.getPromptId(), x -> new ArrayList<>()).add(r);
              samples++;
              tokens += r.getTokenIdsCount();
            }
            case GROUP -> {
              List<SampleResult> g = pending.remove(e.getGroup().getPromptId());
              if (g != null) {
                g.sort((a, b) -> Integer.compare(a.getIndex(), b.getIndex()));
                for (SampleResult r : g) {
                  w.write(SampleJsonl.line(r));
                  w.write('\n');
                }
              }
              groups++;
            }
            case STATUS -> last = e.getStatus();
            default -> {}
          }
          progress.update(groups, spec.getPromptsCount(), samples, tokens, false);
        }
      } catch (StatusRuntimeException e) {
        if (batches && e.getStatus().getCode() == Status.Code.UNIMPLEMENTED) {
          batches = false; // a coordinator older than StreamJobBatches: one event per message
          continue;
        }
        if (e.getStatus().getCode() != Status.Code.UNAVAILABLE || ++retries > 10) {
          throw GrpcErrors.translate(e, client.coordinator);
        }
        Thread.sleep(500L * retries);
      }
    }
    progress.update(groups, spec.getPromptsCount(), samples, tokens, true);
    progress.finish();
    System.err.println(
        "quasiroll: job "
            + jobId
            + " "
            + last.getState().name().substring("JOB_STATE_".length()).toLowerCase()
            + ": "
            + last.getSamplesDone()
            + " samples, "
            + last.getRequeuedShards()
            + " shards re-queued, "
            + last.getDuplicatesDropped()
            + " duplicates dropped"
            + (last.getError().isEmpty() ? "" : ", error: " + last.getError()));
    return last.getState() == JobState.JOB_STATE_SUCCEEDED ? Main.EXIT_OK : Main.EXIT_RUNTIME;
  }
}
