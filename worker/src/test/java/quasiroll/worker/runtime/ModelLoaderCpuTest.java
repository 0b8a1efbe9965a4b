package quasiroll.worker.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import quasiroll.common.error.BadInputException;
import quasiroll.worker.model.DType;
import quasiroll.worker.model.fixture.GgufFixtureWriter;
import quasiroll.worker.model.fixture.HfFixtureWriter;
import quasiroll.worker.model.fixture.TinyModel;
import quasiroll.worker.model.fixture.TinyModelSpec;

/** Real model files through the model loader land on the CPU transformer backend. */
class ModelLoaderCpuTest {
  @TempDir Path tmp;

  @Test
  void loadsGgufFilesAndHfDirectoriesOnTheCpu() throws Exception {
    TinyModel model = TinyModel.generate(TinyModelSpec.qwen2Tied(31));
    Path gguf = GgufFixtureWriter.write(model, tmp.resolve("m.gguf"), DType.F32);
    Path hf = HfFixtureWriter.write(model, tmp.resolve("hf"), DType.F32);
    ModelHandle a = ModelLoader.load(gguf.toString(), "cpu");
    ModelHandle b = ModelLoader.load(hf.toString(), "auto");
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
    Path gguf = GgufFixtureWriter.write(TinyModel.generate(TinyModelSpec.llamaGqa(32)),
        tmp.resolve("m.gguf"), DType.F32);
    assertThrows(BadInputException.class, () -> ModelLoader.load(gguf.toString(), "tpu"));
    assertThrows(BadInputException.class,
        () -> ModelLoader.load(tmp.resolve("absent.gguf").toString(), "cpu"));
  }
}
