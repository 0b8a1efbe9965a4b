package quasiroll.cli.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * The coordinator's OpenAI-compatible HTTP API against a live local cluster (coordinator + a worker
 * with the demo model, as separate processes, shared bearer token on), driven by clients no one
 * here wrote: the official {@code openai} npm package (pinned, installed with {@code npm ci} from
 * clients/node-openai-test's lockfile) and Debian's python3-requests.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class HttpApiClusterTest {
  private static final String TOKEN = "http-test-token";
  private static final int MAX_REQUEST_BYTES = 65536;
  private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
  private static final String MODEL = ROOT.resolve("models/demo").toString();

  private ClusterProcesses cluster;
  private int httpPort;
  private String base;

  @BeforeAll
  void startCluster() throws Exception {
    Path dir = Files.createTempDirectory("quasiroll-http-test");
    cluster =
        new ClusterProcesses(
            dir,
            List.of("-Dquasiroll.limits.max-request-bytes=" + MAX_REQUEST_BYTES),
            Map.of("QUASIROLL_AUTH_TOKEN", TOKEN));
    httpPort = ClusterProcesses.freeLoopbackPort();
    base = "http://127.0.0.1:" + httpPort;
    // The demo model has no chat template of its own; chat is tested with SmolLM2's (ChatML).
    Path template = ROOT.resolve("coordinator/src/test/resources/chat-templates/smollm2.jinja");
    Path config = dir.resolve("http-test.conf");
    Files.writeString(
        config,
        "quasiroll.http.chat-templates = [{model = \""
            + MODEL
            + "\", file = \""
            + template
            + "\"}]\n"
            + "quasiroll.http.models = [\"not-served-yet\"]\n");
    cluster.startCoordinatorWithHttp(httpPort, "--config", config.toString());
    cluster.startWorker("demo-worker", MODEL, 16);
    HttpClient http = HttpClient.newHttpClient();
    ClusterProcesses.await(
        "the demo model in /v1/models",
        Duration.ofSeconds(180),
        () -> {
          try {
            HttpResponse<String> r =
                http.send(
                    HttpRequest.newBuilder(URI.create(base + "/v1/models"))
                        .header("Authorization", "Bearer " + TOKEN)
                        .timeout(Duration.ofSeconds(5))
                        .build(),
                    HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200 && r.body().contains(MODEL.replace("/", "\\/"))
                || r.statusCode() == 200 && r.body().contains(MODEL);
          } catch (java.io.IOException e) {
            return false;
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
          }
        });
  }

  @AfterAll
  void stopCluster() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void pythonRequestsChecksExtraFieldsAndErrorShapes() throws Exception {
    Path python = Path.of("/usr/bin/python3");
    Assumptions.assumeTrue(
        Files.isExecutable(python),
        "Debian python3 with python3-requests (deploy/install-deps.sh)");
    String out =
        run(
            ROOT,
            120,
            python.toString(),
            ROOT.resolve("clients/http/http_api_check.py").toString(),
            base,
            MODEL,
            TOKEN,
            Integer.toString(MAX_REQUEST_BYTES));
    assertTrue(out.contains("http api check OK"), out);
    out.lines().filter(l -> l.startsWith("coalescing:")).forEach(System.out::println);
  }

  /**
   * lm-evaluation-harness's loglikelihood requests (echo + logprobs over token-id prompts), sent
   * and parsed as its local-completions model does, with its remote-tokenizer probe.
   */
  @Test
  void lmEvalLoglikelihoodRequestsParseAsTheHarnessReadsThem() throws Exception {
    Path python = Path.of("/usr/bin/python3");
    Assumptions.assumeTrue(
        Files.isExecutable(python),
        "Debian python3 with python3-requests (deploy/install-deps.sh)");
    String out =
        run(
            ROOT,
            120,
            python.toString(),
            ROOT.resolve("clients/http/lm_eval_check.py").toString(),
            base,
            MODEL,
            TOKEN);
    assertTrue(out.contains("lm-eval check OK"), out);
  }

  @Test
  void officialOpenAiNpmClientRunsCompletionsStreamingAndErrors() throws Exception {
    Path dir = ROOT.resolve("clients/node-openai-test");
    Assumptions.assumeTrue(onPath("node") && onPath("npm"), "node and npm (Node 20) on the PATH");
    if (!Files.isDirectory(dir.resolve("node_modules/openai"))) {
      run(dir, 180, "npm", "ci", "--no-audit", "--no-fund");
    }
    String out =
        run(
            dir,
            120,
            Map.of("QUASIROLL_AUTH_TOKEN", TOKEN),
            "node",
            "check.mjs",
            base + "/v1",
            MODEL,
            MODEL);
    assertTrue(out.contains("openai client OK"), out);
  }

  private static boolean onPath(String exe) {
    for (String d : System.getenv().getOrDefault("PATH", "").split(":")) {
      if (Files.isExecutable(Path.of(d, exe))) {
        return true;
      }
    }
    return false;
  }

  private static String run(Path cwd, int seconds, String... cmd) throws Exception {
    return run(cwd, seconds, Map.of(), cmd);
  }

  private static String run(Path cwd, int seconds, Map<String, String> env, String... cmd)
      throws Exception {
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(cwd.toFile()).redirectErrorStream(true);
    pb.environment().putAll(env);
    Process p = pb.start();
    byte[] bytes = p.getInputStream().readAllBytes();
    boolean done = p.waitFor(seconds, TimeUnit.SECONDS);
    String out = new String(bytes, StandardCharsets.UTF_8);
    if (!done) {
      p.destroyForcibly();
    }
    assertTrue(done, String.join(" ", cmd) + " did not finish in " + seconds + " s:\n" + out);
    assertEquals(0, p.exitValue(), String.join(" ", cmd) + " failed:\n" + out);
    return out;
  }
}
