package quasiroll.worker.load;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import quasiroll.common.config.QuasirollConfig;
import quasiroll.common.error.BadInputException;
import quasiroll.worker.model.DType;
import quasiroll.worker.model.fixture.GgufFixtureWriter;
import quasiroll.worker.model.fixture.HfFixtureWriter;
import quasiroll.worker.model.fixture.TinyModel;
import quasiroll.worker.model.fixture.TinyModelSpec;
import quasiroll.worker.runtime.DecodeSession;
import quasiroll.worker.runtime.ModelBackend;
import quasiroll.worker.runtime.ModelHandle;

/** Real model files through the model loader land on the CPU transformer backend. */
class BackendLoaderCpuTest {
  private static final WorkerSettings SETTINGS = WorkerSettings.from(QuasirollConfig.load(null));
  @TempDir Path tmp;

  @Test
  void loadsGgufFilesAndHfDirectoriesOnTheCpu() throws Exception {
    TinyModel model = TinyModel.generate(TinyModelSpec.qwen2Tied(31));
    Path gguf = GgufFixtureWriter.write(model, tmp.resolve("m.gguf"), DType.F32);
    Path hf = HfFixtureWriter.write(model, tmp.resolve("hf"), DType.F32);
    ModelHandle a = BackendLoader.load(gguf.toString(), "cpu", SETTINGS);
    ModelHandle b = BackendLoader.load(hf.toString(), "auto", SETTINGS);
    try (ModelBackend ba = a.backend();
        ModelBackend bb = b.backend()) {
      assertEquals("qwen2", ba.info().architecture());
      assertEquals(gguf.toString(), ba.info().id());
      int[] prompt = a.tokenizer().encode("Once upon a time");
      assertArrayEquals(prompt, b.tokenizer().encode("Once upon a time"));
      try (DecodeSession sa = ba.open(prompt, 2, 3);
          DecodeSession sb = bb.open(prompt, 2, 3)) {
        assertArrayEquals(sa.promptLogits(), sb.promptLogits());
      }
    }
  }

  @Test
  void refusesUnknownDevicesAndMissingPaths() throws Exception {
    Path gguf =
        GgufFixtureWriter.write(
            TinyModel.generate(TinyModelSpec.llamaGqa(32)), tmp.resolve("m.gguf"), DType.F32);
    assertThrows(
        BadInputException.class, () -> BackendLoader.load(gguf.toString(), "tpu", SETTINGS));
    assertThrows(
        BadInputException.class,
        () -> BackendLoader.load(tmp.resolve("absent.gguf").toString(), "cpu", SETTINGS));
  }
}
