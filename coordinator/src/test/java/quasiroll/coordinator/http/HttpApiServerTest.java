package quasiroll.coordinator.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import quasiroll.cluster.wire.ToCoordinator;
import quasiroll.cluster.wire.ToWorker;
import quasiroll.cluster.wire.WorkerInfo;
import quasiroll.common.config.QuasirollConfig;
import quasiroll.coordinator.events.JobEventLogs;
import quasiroll.coordinator.job.JobLimits;
import quasiroll.coordinator.job.JobManager;
import quasiroll.coordinator.job.JobSpecValidator;
import quasiroll.v1.JobState;
import quasiroll.v1.JobStatus;

/**
 * The HTTP API's flow control against the real server (pekko-http on a loopback port, the real job
 * manager) with a stand-in worker that takes shards and never finishes them, so requests stay in
 * flight exactly as long as the test wants: the 429 + Retry-After when quasiroll.http.max-in-flight
 * requests are running, and a streaming client that hangs up cancelling its job (the worker is told
 * to stop, the job ends CANCELLED, the slot frees).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class HttpApiServerTest {
  private static final String MODEL = "loadtest:?vocab=24";
  private static final String WORKER = "stand-in-worker";
  private static final int MAX_IN_FLIGHT = 2;
  private static final int MAX_REQUEST_BYTES = 65536;
  private static final ObjectMapper JSON = new ObjectMapper();

  private ActorSystem<Void> system;
  private ActorRef<ToCoordinator> jobManager;
  private final LinkedBlockingQueue<ToWorker> toWorker = new LinkedBlockingQueue<>();
  private ExecutorService validation;
  private String base;
  private int port;
  private final HttpClient http = HttpClient.newHttpClient();

  @BeforeEach
  void start() throws Exception {
    // pekko.fail-mixed-versions: this module's test class path sees pekko-discovery from
    // pekko-http's older line; the CLI's (the product's) class path aligns them.
    Config config =
        ConfigFactory.parseString(
                "pekko.actor.provider = local\n"
                    + "pekko.fail-mixed-versions = off\n"
                    + "pekko.loglevel = WARNING\n"
                    + "quasiroll.http.port = 0\n"
                    + "quasiroll.http.stream-keep-alive = 200ms\n"
                    + "quasiroll.limits.max-request-bytes = "
                    + MAX_REQUEST_BYTES
                    + "\n"
                    + "quasiroll.http.max-in-flight = "
                    + MAX_IN_FLIGHT
                    + "\n")
            .withFallback(QuasirollConfig.load(null));
    system = ActorSystem.create(Behaviors.empty(), "http-api-server-test", config);
    JobEventLogs logs = new JobEventLogs();
    jobManager =
        system.systemActorOf(
            JobManager.create(logs, "127.0.0.1:1", new SimpleMeterRegistry()),
            "job-manager",
            org.apache.pekko.actor.typed.Props.empty());
    ActorRef<ToWorker> agent =
        system.systemActorOf(
            Behaviors.receiveMessage(
                m -> {
                  toWorker.add(m);
                  return Behaviors.same();
                }),
            "stand-in-worker",
            org.apache.pekko.actor.typed.Props.empty());
    jobManager.tell(
        new ToCoordinator.RegisterWorker(new WorkerInfo(WORKER, MODEL, "cpu", 16), agent));
    jobManager.tell(new JobManager.DataPlaneOpened(WORKER));
    jobManager.tell(new ToCoordinator.RequestWork(WORKER, 16));
    Path dir = Files.createTempDirectory("quasiroll-http-server-test");
    validation = Executors.newFixedThreadPool(1);
    HttpApiSettings settings = HttpApiSettings.from(config, "127.0.0.1");
    GenerationService service =
        new GenerationService(
            new JobSpecValidator(JobLimits.from(config), dir, dir),
            jobManager,
            system.scheduler(),
            logs,
            validation,
            new ModelCatalog(),
            settings);
    port =
        HttpApiServer.start(system, settings, service)
            .toCompletableFuture()
            .get(20, TimeUnit.SECONDS)
            .localAddress()
            .getPort();
    base = "http://127.0.0.1:" + port;
  }

  @AfterEach
  void stop() {
    system.terminate();
    validation.shutdownNow();
  }

  private static String body(boolean stream) {
    return "{\"model\": \""
        + MODEL
        + "\", \"prompt\": \"hello\", \"max_tokens\": 4, \"seed\": 7, \"stream\": "
        + stream
        + "}";
  }

  private CompletableFuture<HttpResponse<String>> post(String body) {
    return http.sendAsync(
        HttpRequest.newBuilder(URI.create(base + "/v1/completions"))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** The next shard the job manager hands the stand-in worker. */
  private ToWorker.AssignShard nextShard() throws InterruptedException {
    while (true) {
      ToWorker m = toWorker.poll(20, TimeUnit.SECONDS);
      assertNotNull(m, "no shard reached the worker in 20 s");
      if (m instanceof ToWorker.AssignShard a) {
        return a;
      }
    }
  }

  private Optional<JobStatus> status(String jobId) throws Exception {
    return AskPattern.<ToCoordinator, Optional<JobStatus>>ask(
            jobManager,
            r -> new JobManager.GetStatus(jobId, r),
            Duration.ofSeconds(5),
            system.scheduler())
        .toCompletableFuture()
        .get(10, TimeUnit.SECONDS);
  }

  @Test
  void requestsBeyondMaxInFlightGet429WithRetryAfter() throws Exception {
    List<CompletableFuture<HttpResponse<String>>> running = new ArrayList<>();
    List<String> jobs = new ArrayList<>();
    for (int i = 0; i < MAX_IN_FLIGHT; i++) {
      running.add(post(body(false)));
      jobs.add(nextShard().task().jobId()); // in flight: its job is on the (silent) worker
    }
    HttpResponse<String> busy = post(body(false)).get(20, TimeUnit.SECONDS);
    assertEquals(429, busy.statusCode(), busy.body());
    String retryAfter = busy.headers().firstValue("Retry-After").orElse(null);
    assertNotNull(retryAfter, "429 without Retry-After: " + busy.headers().map());
    assertTrue(Integer.parseInt(retryAfter) >= 1, retryAfter);
    JsonNode error = JSON.readTree(busy.body()).get("error");
    assertNotNull(error, busy.body());
    assertTrue(
        error.get("message").asText().contains(Integer.toString(MAX_IN_FLIGHT)), busy.body());
    assertTrue(error.has("type") && error.has("param") && error.has("code"), busy.body());
    // The refused request made no job, and the running ones are untouched.
    assertTrue(toWorker.isEmpty(), "the refused request reached the worker: " + toWorker);
    for (int i = 0; i < MAX_IN_FLIGHT; i++) {
      assertEquals(JobState.JOB_STATE_RUNNING, status(jobs.get(i)).orElseThrow().getState());
      assertTrue(!running.get(i).isDone(), "request " + i + " ended early");
    }
  }

  @Test
  void streamingClientThatDisconnectsCancelsItsJob() throws Exception {
    String body = body(true);
    String jobId;
    try (Socket socket = new Socket("127.0.0.1", port)) {
      OutputStream out = socket.getOutputStream();
      out.write(
          ("POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                  + "Content-Length: "
                  + body.getBytes(StandardCharsets.UTF_8).length
                  + "\r\n\r\n"
                  + body)
              .getBytes(StandardCharsets.UTF_8));
      out.flush();
      jobId = nextShard().task().jobId();
      InputStream in = socket.getInputStream();
      byte[] head = new byte[12];
      int n = in.readNBytes(head, 0, head.length);
      assertEquals("HTTP/1.1 200", new String(head, 0, n, StandardCharsets.US_ASCII));
      assertEquals(JobState.JOB_STATE_RUNNING, status(jobId).orElseThrow().getState());
    } // the client hangs up mid-stream
    ToWorker m;
    do {
      m = toWorker.poll(20, TimeUnit.SECONDS);
      assertNotNull(m, "the worker was not told to stop job " + jobId);
    } while (!(m instanceof ToWorker.CancelJobWork c && c.jobId().equals(jobId)));
    assertEquals(JobState.JOB_STATE_CANCELLED, status(jobId).orElseThrow().getState());
    // Its in-flight slot is free again: MAX_IN_FLIGHT new requests are all accepted.
    for (int i = 0; i < MAX_IN_FLIGHT; i++) {
      post(body(false));
      nextShard();
    }
  }

  /** Sends a raw HTTP/1.1 request in {@code pieces}, 50 ms apart; returns the response's head. */
  private String rawRequest(String head, List<byte[]> pieces, boolean readResponse)
      throws Exception {
    try (Socket socket = new Socket("127.0.0.1", port)) {
      OutputStream out = socket.getOutputStream();
      out.write(head.getBytes(StandardCharsets.US_ASCII));
      out.flush();
      for (byte[] piece : pieces) {
        Thread.sleep(50);
        out.write(piece);
        out.flush();
      }
      if (!readResponse) {
        return promptOfNextJobThenCancelIt();
      }
      byte[] status = new byte[12];
      int n = socket.getInputStream().readNBytes(status, 0, status.length);
      return new String(status, 0, n, StandardCharsets.US_ASCII);
    }
  }

  /**
   * The prompt of the next shard; its job is cancelled, so its request leaves the in-flight count.
   */
  private String promptOfNextJobThenCancelIt() throws Exception {
    var task = nextShard().task();
    AskPattern.<ToCoordinator, Optional<JobStatus>>ask(
            jobManager,
            r -> new JobManager.Cancel(task.jobId(), r),
            Duration.ofSeconds(5),
            system.scheduler())
        .toCompletableFuture()
        .get(10, TimeUnit.SECONDS);
    return task.promptText();
  }

  /** A chunked body: the text cut at {@code cut}, as two chunks, then the last (empty) one. */
  private static List<byte[]> inTwoChunks(String body, int cut) {
    return List.of(
        chunk(body.substring(0, cut)),
        chunk(body.substring(cut)),
        "0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
  }

  private static byte[] chunk(String data) {
    byte[] b = data.getBytes(StandardCharsets.UTF_8);
    byte[] size = (Integer.toHexString(b.length) + "\r\n").getBytes(StandardCharsets.US_ASCII);
    byte[] out = new byte[size.length + b.length + 2];
    System.arraycopy(size, 0, out, 0, size.length);
    System.arraycopy(b, 0, out, size.length, b.length);
    out[out.length - 2] = '\r';
    out[out.length - 1] = '\n';
    return out;
  }

  /**
   * A body that arrives whole is taken as it is (no stream per request); one that arrives in pieces
   * (a late Content-Length body, or chunked) is still read to the end; one over the size limit gets
   * a 413 either way.
   */
  @Test
  void bodiesWholeOrInPiecesAreReadAndOversizedOnesGet413() throws Exception {
    String whole = body(false);
    var first = post(whole);
    assertEquals("hello", promptOfNextJobThenCancelIt());
    first.get(20, TimeUnit.SECONDS); // answered (its job was cancelled): no longer in flight
    String late = whole.replace("hello", "late");
    int half = late.length() / 2;
    assertEquals(
        "late",
        rawRequest(
            "POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                + "Content-Length: "
                + late.length()
                + "\r\n\r\n",
            List.of(
                late.substring(0, half).getBytes(StandardCharsets.UTF_8),
                late.substring(half).getBytes(StandardCharsets.UTF_8)),
            false));
    String chunked = whole.replace("hello", "chunked");
    String chunkedHead =
        "POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + "Transfer-Encoding: chunked\r\n\r\n";
    assertEquals("chunked", rawRequest(chunkedHead, inTwoChunks(chunked, 10), false));
    String big = whole.replace("hello", "x".repeat(MAX_REQUEST_BYTES));
    assertEquals(413, post(big).get(20, TimeUnit.SECONDS).statusCode());
    assertEquals("HTTP/1.1 413", rawRequest(chunkedHead, inTwoChunks(big, 100), true));
    assertTrue(
        toWorker.stream().noneMatch(m -> m instanceof ToWorker.AssignShard),
        "an oversized request reached the worker: " + toWorker);
  }
}
