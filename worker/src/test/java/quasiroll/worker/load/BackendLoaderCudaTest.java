package quasiroll.worker.load;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import quasiroll.common.config.QuasirollConfig;
import quasiroll.common.error.BadInputException;
import quasiroll.worker.model.DType;
import quasiroll.worker.model.fixture.HfFixtureWriter;
import quasiroll.worker.model.fixture.TinyModel;
import quasiroll.worker.model.fixture.TinyModelSpec;
import quasiroll.worker.runtime.cuda.CudaUnavailableException;

/**
 * {@code --device cuda:N} through the model loader on a machine without a GPU: a clear refusal
 * naming what is missing, and the shape/type refusals come before any GPU is touched.
 */
class BackendLoaderCudaTest {
  private static final WorkerSettings SETTINGS = WorkerSettings.from(QuasirollConfig.load(null));
  @TempDir Path tmp;

  /** Qwen2 with head dim 32 (the CUDA attention kernel's granularity). */
  private static TinyModelSpec qwen2Hd32() {
    return new TinyModelSpec(
        "qwen2", 64, 96, 2, 2, 1, 32, 256, 1_000_000.0, null, true, true, 200, 7);
  }

  @Test
  void cudaWithoutADriverSaysWhatIsMissing() throws Exception {
    assumeFalse(Files.exists(Path.of("/dev/nvidiactl")), "an NVIDIA driver is installed here");
    Path hf = HfFixtureWriter.write(TinyModel.generate(qwen2Hd32()), tmp.resolve("hf"), DType.BF16);
    CudaUnavailableException e =
        assertThrows(
            CudaUnavailableException.class,
            () -> BackendLoader.load(hf.toString(), "cuda:0", SETTINGS));
    assertTrue(e.getMessage().contains("libcuda.so.1"), e.getMessage());
    assertTrue(e.getMessage().contains("--device cpu"), e.getMessage());
  }

  @Test
  void unsupportedShapesAreRefusedBeforeTheGpuIsOpened() throws Exception {
    Path hf =
        HfFixtureWriter.write(
            TinyModel.generate(TinyModelSpec.qwen2Tied(3)), tmp.resolve("hf"), DType.F32);
    BadInputException e =
        assertThrows(
            BadInputException.class, () -> BackendLoader.load(hf.toString(), "cuda:0", SETTINGS));
    assertTrue(e.getMessage().contains("head dimension 16"), e.getMessage());
  }
}
