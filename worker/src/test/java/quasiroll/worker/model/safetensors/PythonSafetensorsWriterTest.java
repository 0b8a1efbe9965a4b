package quasiroll.worker.model.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import quasiroll.worker.model.DType;
import quasiroll.worker.model.DTypeCodec;
import quasiroll.worker.model.TensorData;

/**
 * The Python client's own safetensors writer (clients/python/quasiroll_client/safetensors_io.py,
 * used when the `safetensors` package is absent) writes files this reader takes with the exact
 * values, in every dtype the worker reads.
 */
class PythonSafetensorsWriterTest {
  @TempDir Path tmp;

  @Test
  void readsWhatThePythonClientWrites() throws Exception {
    Path client = Path.of("..", "clients", "python").toAbsolutePath().normalize();
    assumeTrue(
        Files.isRegularFile(client.resolve("quasiroll_client/safetensors_io.py")),
        "no Python client in this tree");
    assumeTrue(Files.isExecutable(Path.of("/usr/bin/python3")), "no python3");
    Path out = tmp.resolve("py.safetensors");
    String script =
        String.join(
            "\n",
            "import sys, struct, importlib.util",
            "spec = importlib.util.spec_from_file_location('st', sys.argv[1])",
            "st = importlib.util.module_from_spec(spec); spec.loader.exec_module(st)",
            "vals = [(i - 7) * 0.375 for i in range(15)]",
            "bf16 = b''.join(struct.pack('<f', v)[2:] for v in vals)",
            "st.save_file({'b.weight': ('F32', [3, 5], struct.pack('<15f', *vals)),",
            "              'a.bias': ('BF16', [15], bf16),",
            "              'c.half': ('F16', [5, 3], struct.pack('<15e', *vals))}, sys.argv[2],"
                + " metadata={'step': 3})");
    Process p =
        new ProcessBuilder(
                "/usr/bin/python3",
                "-c",
                script,
                client.resolve("quasiroll_client/safetensors_io.py").toString(),
                out.toString())
            .redirectErrorStream(true)
            .start();
    String log = new String(p.getInputStream().readAllBytes());
    assertEquals(true, p.waitFor(60, TimeUnit.SECONDS));
    assertEquals(0, p.exitValue(), log);
    float[] want = new float[15];
    for (int i = 0; i < 15; i++) {
      want[i] = (i - 7) * 0.375f;
    }
    try (SafetensorsFile f = SafetensorsFile.open(out)) {
      assertEquals(List.of("b.weight", "a.bias", "c.half"), List.copyOf(f.tensors().keySet()));
      check(f.tensors().get("b.weight"), DType.F32, new long[] {3, 5}, want);
      check(f.tensors().get("a.bias"), DType.BF16, new long[] {15}, want);
      check(f.tensors().get("c.half"), DType.F16, new long[] {5, 3}, want);
    }
  }

  private static void check(TensorData t, DType dtype, long[] shape, float[] want) {
    assertEquals(dtype, t.dtype(), t.name());
    assertArrayEquals(shape, t.shape(), t.name());
    assertArrayEquals(want, DTypeCodec.toFloats(t), 0f, t.name());
  }
}
