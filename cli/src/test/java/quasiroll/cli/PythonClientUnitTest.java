package quasiroll.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The Python client's own unit tests (clients/python/tests/test_*.py: safetensors writer, group
 * assembly, channel and TLS arguments) run under Debian's python3 as part of the build, so CI runs
 * them too.
 */
class PythonClientUnitTest {
  @Test
  void pythonClientUnitTestsPass() throws Exception {
    Path python = Path.of("/usr/bin/python3");
    Assumptions.assumeTrue(
        Files.isExecutable(python), "Debian python3 with grpcio (deploy/install-deps.sh)");
    Process p =
        new ProcessBuilder(
                python.toString(), "-m", "unittest", "discover", "-s", "tests", "-p", "test_*.py")
            .directory(Path.of("..", "clients", "python").toFile())
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(120, TimeUnit.SECONDS), out);
    assertEquals(0, p.exitValue(), out);
    assertTrue(out.contains("OK"), out);
  }
}
