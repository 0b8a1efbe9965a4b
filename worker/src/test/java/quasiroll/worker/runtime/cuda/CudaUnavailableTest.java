package quasiroll.worker.runtime.cuda;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** On a machine without an NVIDIA driver, asking for CUDA fails with a message, not a crash. */
class CudaUnavailableTest {
  private static boolean driverPresent() {
    return Files.exists(Path.of("/dev/nvidiactl"))
        || Files.exists(Path.of("/usr/lib/x86_64-linux-gnu/libcuda.so.1"))
        || Files.exists(Path.of("/usr/lib64/libcuda.so.1"));
  }

  @Test
  void missingDriverNamesTheLibraryAndTheCpuAlternative() {
    assumeFalse(driverPresent(), "an NVIDIA driver is installed here");
    for (int attempt = 0; attempt < 2; attempt++) { // the second attempt repeats the reason
      CudaUnavailableException e =
          assertThrows(CudaUnavailableException.class, () -> CudaDevice.open(0));
      assertTrue(e.getMessage().contains("libcuda.so.1"), e.getMessage());
      assertTrue(e.getMessage().contains("cuda:0"), e.getMessage());
      assertTrue(e.getMessage().contains("--device cpu"), e.getMessage());
    }
  }
}
