package quasiroll.cli.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Policy publishing on a real cluster: a coordinator and two workers serving the bundled demo model
 * as separate JVMs, driven by the Python client package (its sync and asyncio APIs) through
 * clients/python/tests/policy_live_check.py, which checks: a streamed full policy reaches every
 * worker; publishes under load never yield a group with mixed versions and every sample is tagged;
 * exact versions are honoured; bad sources are refused naming the tensor or path while the old
 * version keeps serving; abort mode returns ABORTED samples with their version and regenerates
 * their groups on the new version; max_staleness=0 delivers no stale group. Then a 2-step GRPO run,
 * and a coordinator restart: versions keep their numbers (policy_restart_check.py). Typically about
 * 3 minutes on 2 idle cores (8.6 minutes measured at load average 30 to 40); the limit leaves room
 * for a loaded machine.
 */
@Timeout(value = 900, unit = TimeUnit.SECONDS)
class PolicyClusterTest {
  @Test
  void publishedPoliciesReachEveryWorkerAndNoGroupMixesVersions() throws Exception {
    Path python = Path.of("/usr/bin/python3");
    Path script = Path.of("..", "clients", "python", "tests", "policy_live_check.py");
    Path model = Path.of("..", "models", "demo").toAbsolutePath().normalize();
    Assumptions.assumeTrue(
        Files.isExecutable(python), "Debian python3 with grpcio (deploy/install-deps.sh)");
    Assumptions.assumeTrue(
        Files.isRegularFile(model.resolve("model.safetensors")), "the bundled demo model");
    Path dir = Files.createTempDirectory("quasiroll-policy-test");
    try (ClusterProcesses cluster = new ClusterProcesses(dir)) {
      Process coordinator = cluster.startCoordinator();
      cluster.startWorker("policy-worker1", model.toString(), 8);
      cluster.startWorker("policy-worker2", model.toString(), 8);
      ClusterProcesses.await(
          "coordinator and 2 demo workers",
          Duration.ofSeconds(150),
          () -> cluster.metric("quasiroll_coordinator_live_workers") == 2);
      Process p =
          new ProcessBuilder(
                  python.toString(),
                  script.toString(),
                  "127.0.0.1:" + cluster.grpcPort,
                  model.toString(),
                  model.toString())
              .redirectErrorStream(true)
              .start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertTrue(p.waitFor(120, TimeUnit.SECONDS), out);
      assertEquals(0, p.exitValue(), out);
      assertTrue(out.contains("policy live check OK"), out);
      System.out.println(out);
      grpoSmoke(python, model, cluster, dir);
      versionsSurviveARestart(python, model, cluster, coordinator);
    }
  }

  private static String check(Path python, String script, String... args) throws Exception {
    java.util.List<String> cmd =
        new java.util.ArrayList<>(
            java.util.List.of(
                python.toString(), Path.of("..", "clients", "python", "tests", script).toString()));
    cmd.addAll(java.util.List.of(args));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(120, TimeUnit.SECONDS), out);
    assertEquals(0, p.exitValue(), out);
    return out;
  }

  /**
   * The coordinator is killed (SIGKILL) and started again on the same data directory; the workers
   * rejoin. The newest version is still served under its number, and the next publish continues the
   * numbering (before, it restarted at 1 while the workers still held an old version 1).
   */
  private static void versionsSurviveARestart(
      Path python, Path model, ClusterProcesses cluster, Process coordinator) throws Exception {
    String address = "127.0.0.1:" + cluster.grpcPort;
    String before =
        check(
            python,
            "policy_restart_check.py",
            address,
            model.toString(),
            model.toString(),
            "before");
    long latest = Long.parseLong(before.strip().replaceAll("(?s).*latest (\\d+).*", "$1"));
    assertTrue(latest >= 3, before);
    coordinator.destroyForcibly();
    assertTrue(coordinator.waitFor(30, TimeUnit.SECONDS));
    cluster.startCoordinator();
    ClusterProcesses.await(
        "the restarted coordinator and its 2 workers",
        Duration.ofSeconds(150),
        () -> cluster.metric("quasiroll_coordinator_live_workers") == 2);
    String out =
        check(
            python,
            "policy_restart_check.py",
            address,
            model.toString(),
            model.toString(),
            "after",
            Long.toString(latest));
    assertTrue(out.contains("policy restart check OK"), out);
    System.out.println(out);
  }

  /**
   * The GRPO example (examples/grpo/grpo.py, PyTorch on the CPU) for 2 steps on this cluster:
   * rollouts, a clipped-ratio update, a publish per step; skipped without python3-torch.
   */
  private static void grpoSmoke(Path python, Path model, ClusterProcesses cluster, Path dir)
      throws Exception {
    Process probe = new ProcessBuilder(python.toString(), "-c", "import torch").start();
    Assumptions.assumeTrue(
        probe.waitFor(60, TimeUnit.SECONDS) && probe.exitValue() == 0,
        "python3-torch (deploy/install-deps.sh) for the GRPO smoke run");
    Path prompts = dir.resolve("grpo-prompts.jsonl");
    StringBuilder jsonl = new StringBuilder();
    int[][] puzzles = {{3, 5, 7, 12}, {2, 9, 4, 13}, {8, 6, 1, 14}, {10, 3, 5, 8}};
    for (int i = 0; i < puzzles.length; i++) {
      int[] q = puzzles[i];
      jsonl.append(
          String.format(
              "{\"id\":\"g%d\",\"prompt\":\"Countdown: make %d from %d %d %d using + - * / and"
                  + " parentheses, each number at most once.\\n"
                  + "Answer: \",\"metadata\":{\"task\":\"countdown\","
                  + "\"numbers\":\"%d,%d,%d\",\"target\":\"%d\"}}%n",
              i, q[3], q[0], q[1], q[2], q[0], q[1], q[2], q[3]));
    }
    Files.writeString(prompts, jsonl);
    Path log = dir.resolve("grpo-smoke.jsonl");
    Process p =
        new ProcessBuilder(
                python.toString(),
                Path.of("..", "examples", "grpo", "grpo.py").toString(),
                "--address",
                "127.0.0.1:" + cluster.grpcPort,
                "--model-id",
                model.toString(),
                "--model-dir",
                model.toString(),
                "--prompts",
                prompts.toString(),
                "--steps",
                "2",
                "--batch",
                "2",
                "--k",
                "4",
                "--max-new-tokens",
                "12",
                "--out",
                log.toString())
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(120, TimeUnit.SECONDS), out);
    assertEquals(0, p.exitValue(), out);
    var rows = Files.readAllLines(log);
    assertEquals(2, rows.size(), out);
    assertTrue(rows.get(1).contains("\"step\": 1"), rows.get(1));
  }
}
