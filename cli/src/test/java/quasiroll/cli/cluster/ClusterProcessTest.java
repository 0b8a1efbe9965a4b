package quasiroll.cli.cluster;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import quasiroll.coordinator.sink.SampleJsonl;
import quasiroll.v1.CancelJobRequest;
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

/**
 * The cluster as separate processes: a coordinator and two workers on loopback. In order: an
 * undisturbed job; the same job with a worker SIGKILLed mid-job (identical output) while a bad spec
 * is refused; the Python client runs a job; a worker joining mid-job gets work; cancel stops a job
 * and frees the workers.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 150, unit = TimeUnit.SECONDS)
class ClusterProcessTest {
  /** Each step sleeps 2 ms, so shards take long enough to be caught mid-flight. */
  private static final String MODEL = "loadtest:?vocab=24&step_us=2000";

  /** The real decode loop over the synthetic Markov model. */
  private static final String SYNTHETIC = "synthetic:markov?vocab=64&seed=1";

  private Path dir;
  private ClusterProcesses cluster;
  private Process worker1;
  private ManagedChannel channel;
  private QuasirollServiceGrpc.QuasirollServiceBlockingStub api;
  private List<String> undisturbed;

  @BeforeAll
  void startCluster() throws Exception {
    dir = Files.createTempDirectory("quasiroll-cluster-test");
    cluster = new ClusterProcesses(dir);
    cluster.startCoordinator();
    worker1 = cluster.startWorker("worker1", MODEL, 8);
    cluster.startWorker("worker2", MODEL, 8);
    cluster.startWorker("synthetic", SYNTHETIC, 16);
    ClusterProcesses.await(
        "coordinator and 3 workers",
        Duration.ofSeconds(120),
        () -> cluster.metric("quasiroll_coordinator_live_workers") == 3);
    channel = NettyChannelBuilder.forAddress("127.0.0.1", cluster.grpcPort).usePlaintext().build();
    api = QuasirollServiceGrpc.newBlockingStub(channel);
  }

  @AfterAll
  void stopCluster() throws Exception {
    if (channel != null) {
      channel.shutdownNow().awaitTermination(2, TimeUnit.SECONDS);
    }
    cluster.close();
  }

  private static JobSpec spec(int prompts, String sink) {
    JobSpec.Builder b =
        JobSpec.newBuilder()
            .setModel(MODEL)
            .setK(32)
            .setSeed(42)
            .setSampler(SamplerSpec.newBuilder().setKind("lattice"))
            .setDecode(DecodeParams.newBuilder().setMaxNewTokens(10))
            .setSinks(OutputSinks.newBuilder().setJsonlPath(sink));
    for (int i = 0; i < prompts; i++) {
      b.addPrompts(Prompt.newBuilder().setId("prompt-" + i).setText("question " + i));
    }
    return b.build();
  }

  /** Streams a job to its end; {@code onSample} sees each sample as it arrives. */
  private JobStatus stream(
      String jobId, List<SampleResult> samples, Predicate<List<SampleResult>> onSample) {
    Iterator<JobEvent> it = api.streamJob(StreamJobRequest.newBuilder().setJobId(jobId).build());
    JobStatus last = null;
    while (it.hasNext()) {
      JobEvent e = it.next();
      if (e.hasSample()) {
        samples.add(e.getSample());
        onSample.test(samples);
      } else if (e.hasStatus()) {
        last = e.getStatus();
      }
    }
    return last;
  }

  private static List<String> canonical(List<SampleResult> samples) {
    List<String> lines = new ArrayList<>();
    for (SampleResult r : samples) {
      lines.add(SampleJsonl.line(r));
    }
    Collections.sort(lines);
    return lines;
  }

  private String submit(JobSpec spec) {
    return api.submitJob(SubmitJobRequest.newBuilder().setSpec(spec).build()).getJobId();
  }

  @Test
  @Order(0)
  void syntheticModelJobWithAVerifierGetsGroupSummaries() throws Exception {
    JobSpec spec =
        JobSpec.newBuilder()
            .setModel(SYNTHETIC)
            .setK(16)
            .setSeed(5)
            .setSampler(SamplerSpec.newBuilder().setKind("lattice"))
            .setDecode(DecodeParams.newBuilder().setMaxNewTokens(12))
            .addPrompts(
                Prompt.newBuilder()
                    .setId("a")
                    .addTokenIds(3)
                    .addTokenIds(7)
                    .putMetadata("task", "regex")
                    .putMetadata("pattern", ".*"))
            .addPrompts(Prompt.newBuilder().setId("b").addTokenIds(5))
            .build();
    Iterator<JobEvent> it =
        api.submitAndStream(SubmitJobRequest.newBuilder().setSpec(spec).build());
    List<SampleResult> samples = new ArrayList<>();
    List<quasiroll.v1.GroupSummary> groups = new ArrayList<>();
    JobStatus last = null;
    while (it.hasNext()) {
      JobEvent e = it.next();
      if (e.hasSample()) {
        samples.add(e.getSample());
      } else if (e.hasGroup()) {
        groups.add(e.getGroup());
      } else {
        last = e.getStatus();
      }
    }
    assertEquals(JobState.JOB_STATE_SUCCEEDED, last.getState());
    assertEquals(32, samples.size());
    assertEquals(2, groups.size());
    for (quasiroll.v1.GroupSummary g : groups) {
      assertEquals(16, g.getK());
      // Prompt "a" names a verifier: k rewards and advantages; "b" has none.
      assertEquals(g.getPromptId().equals("a") ? 16 : 0, g.getRewardsCount(), g.toString());
      assertEquals(g.getPromptId().equals("a") ? 16 : 0, g.getGrpoAdvantagesCount());
    }
    for (SampleResult r : samples) {
      assertTrue(r.getTokenIdsCount() >= 1 && r.getTokenIdsCount() <= 12);
      assertEquals(r.getTokenIdsCount(), r.getProcessedLogprobsCount());
      assertEquals(32, r.getContentHash().size());
    }
  }

  @Test
  @Order(1)
  void undisturbedJobProducesExactlyKSamplesPerPrompt() throws Exception {
    List<SampleResult> samples = new ArrayList<>();
    JobStatus end = stream(submit(spec(16, "undisturbed.jsonl")), samples, s -> true);
    assertEquals(JobState.JOB_STATE_SUCCEEDED, end.getState());
    assertEquals(16 * 32, samples.size());
    Set<String> keys = new HashSet<>();
    for (SampleResult r : samples) {
      assertTrue(keys.add(r.getPromptId() + "#" + r.getIndex()), "duplicate key");
    }
    undisturbed = canonical(samples);
    List<String> file =
        new ArrayList<>(Files.readAllLines(cluster.outputDir.resolve("undisturbed.jsonl")));
    Collections.sort(file);
    assertEquals(undisturbed, file);
  }

  @Test
  @Order(2)
  void workerKilledMidJobGivesIdenticalOutputWhileBadSpecsAreRefused() throws Exception {
    String jobId = submit(spec(16, "killed.jsonl"));
    List<SampleResult> samples = new ArrayList<>();
    boolean[] killed = {false};
    JobStatus end =
        stream(
            jobId,
            samples,
            s -> {
              if (!killed[0] && s.size() >= 100) {
                killed[0] = true;
                worker1.destroyForcibly(); // SIGKILL
                StatusRuntimeException bad =
                    assertThrows(
                        StatusRuntimeException.class,
                        () -> submit(spec(1, "").toBuilder().setK(0).build()));
                assertEquals(Status.Code.INVALID_ARGUMENT, bad.getStatus().getCode());
                assertTrue(
                    bad.getStatus().getDescription().contains("k 0"),
                    bad.getStatus().getDescription());
              }
              return true;
            });
    assertTrue(killed[0]);
    assertEquals(JobState.JOB_STATE_SUCCEEDED, end.getState(), end.toString());
    assertTrue(end.getRequeuedShards() > 0, "the killed worker's shards were re-queued: " + end);
    assertEquals(0, end.getDeterminismViolations());
    assertEquals(undisturbed, canonical(samples));
    List<String> file =
        new ArrayList<>(Files.readAllLines(cluster.outputDir.resolve("killed.jsonl")));
    Collections.sort(file);
    assertEquals(undisturbed, file);
  }

  /**
   * The CLI ({@code quasiroll submit}: the batched stream, the hand-written JSONL lines) writes
   * exactly the bytes of the coordinator's own JSONL sink for the same job, and the same lines as
   * the undisturbed job above (same spec, streamed event by event).
   */
  @Test
  @Order(3)
  void cliSubmitWritesExactlyTheCoordinatorsSinkBytes() throws Exception {
    Path prompts = dir.resolve("cli-prompts.jsonl");
    StringBuilder lines = new StringBuilder();
    for (int i = 0; i < 16; i++) {
      lines.append("{\"id\":\"prompt-" + i + "\",\"prompt\":\"question " + i + "\"}\n");
    }
    Files.writeString(prompts, lines);
    Path out = dir.resolve("cli-out.jsonl");
    int exit =
        quasiroll.cli.Main.execute(
            "submit",
            "--coordinator",
            "127.0.0.1:" + cluster.grpcPort,
            "--prompts",
            prompts.toString(),
            "--model",
            MODEL,
            "-k",
            "32",
            "--sampler",
            "lattice",
            "--max-new-tokens",
            "10",
            "--seed",
            "42",
            "--server-jsonl",
            "cli-sink.jsonl",
            "--out",
            out.toString());
    assertEquals(0, exit);
    byte[] client = Files.readAllBytes(out);
    assertEquals(
        new String(Files.readAllBytes(cluster.outputDir.resolve("cli-sink.jsonl")), UTF_8),
        new String(client, UTF_8));
    List<String> sorted = new ArrayList<>(Files.readAllLines(out));
    Collections.sort(sorted);
    assertEquals(16 * 32, sorted.size());
    if (undisturbed != null) {
      assertEquals(undisturbed, sorted);
    }
  }

  @Test
  @Order(3)
  void pythonClientRunsAJobAgainstTheLiveCluster() throws Exception {
    Path python = Path.of("/usr/bin/python3");
    Path script = Path.of("..", "clients", "python", "tests", "live_cluster_check.py");
    Assumptions.assumeTrue(
        Files.isExecutable(python), "Debian python3 with grpcio (deploy/install-deps.sh)");
    Process p =
        new ProcessBuilder(
                python.toString(), script.toString(), "127.0.0.1:" + cluster.grpcPort, MODEL)
            .redirectErrorStream(true)
            .start();
    String out =
        new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS));
    assertEquals(0, p.exitValue(), out);
    assertTrue(out.contains("python client OK"), out);
  }

  @Test
  @Order(3)
  void pythonPackageInstallsIntoAFreshVirtualEnvironmentAndItsAsyncClientRuns() throws Exception {
    Path python = Path.of("/usr/bin/python3");
    Assumptions.assumeTrue(
        Files.isExecutable(python), "Debian python3 with grpcio (deploy/install-deps.sh)");
    Path work = Files.createTempDirectory("qr-venv");
    // A copy of the package source (pip writes build files beside it) and the check script,
    // both outside the repository, so only the installed copy can be imported.
    Path source = work.resolve("src");
    copyTree(Path.of("..", "clients", "python"), source);
    Path script = work.resolve("installed_async_check.py");
    Files.copy(source.resolve("tests").resolve("installed_async_check.py"), script);
    Path venv = work.resolve("venv");
    // --system-site-packages: the package's dependencies are Debian's grpcio and protobuf, and
    // the install must work offline (--no-index, --no-build-isolation).
    runChecked(work, python.toString(), "-m", "venv", "--system-site-packages", venv.toString());
    Path venvPython = venv.resolve("bin").resolve("python");
    runChecked(
        work,
        venvPython.toString(),
        "-m",
        "pip",
        "install",
        "-q",
        "--no-index",
        "--no-build-isolation",
        source.toString());
    String out =
        runChecked(
            work, venvPython.toString(), script.toString(), "127.0.0.1:" + cluster.grpcPort, MODEL);
    assertTrue(out.contains("installed package OK: " + venv.toRealPath()), out);
  }

  private static void copyTree(Path from, Path to) throws java.io.IOException {
    try (var paths = Files.walk(from)) {
      for (Path p : (Iterable<Path>) paths::iterator) {
        String rel = from.relativize(p).toString();
        if (rel.contains("__pycache__") || rel.contains(".egg-info") || rel.startsWith("build")) {
          continue;
        }
        Path target = to.resolve(rel);
        if (Files.isDirectory(p)) {
          Files.createDirectories(target);
        } else {
          Files.copy(p, target);
        }
      }
    }
  }

  /** Runs a command in {@code dir}; fails the test with its output unless it exits 0 in 120 s. */
  private static String runChecked(Path dir, String... command) throws Exception {
    Process p =
        new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
    String out =
        new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    assertTrue(p.waitFor(120, TimeUnit.SECONDS), String.join(" ", command) + " timed out");
    assertEquals(0, p.exitValue(), String.join(" ", command) + "\n" + out);
    return out;
  }

  @Test
  @Order(4)
  void workerJoiningMidJobGetsWorkAndCancelStopsTheJob() throws Exception {
    // Long enough for a fresh JVM to start and join while it runs on the one remaining worker.
    String jobId = submit(spec(400, ""));
    cluster.startWorker("worker3", MODEL, 8);
    List<SampleResult> samples = new ArrayList<>();
    Set<String> producers = new HashSet<>();
    String[] firstProducer = {null};
    boolean[] cancelled = {false};
    JobStatus end =
        stream(
            jobId,
            samples,
            s -> {
              String w = s.get(s.size() - 1).getWorkerId();
              if (firstProducer[0] == null) {
                firstProducer[0] = w;
              }
              producers.add(w);
              if (!cancelled[0] && producers.size() >= 2) {
                cancelled[0] = true;
                JobStatus st =
                    api.cancelJob(CancelJobRequest.newBuilder().setJobId(jobId).build())
                        .getStatus();
                assertEquals(JobState.JOB_STATE_CANCELLED, st.getState());
              }
              return true;
            });
    assertTrue(cancelled[0], "the joining worker produced samples: " + producers);
    assertEquals(JobState.JOB_STATE_CANCELLED, end.getState());
    assertTrue(end.getSamplesDone() < 400L * 32, "cancel stopped the job early");
    // Cancelled work is off the workers: a new job completes promptly on both.
    List<SampleResult> after = new ArrayList<>();
    JobStatus next = stream(submit(spec(4, "")), after, s -> true);
    assertEquals(JobState.JOB_STATE_SUCCEEDED, next.getState());
    assertNotEquals(null, firstProducer[0]);
  }
}
