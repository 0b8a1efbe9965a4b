package quasiroll.worker.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import quasiroll.common.config.QuasirollConfig;
import quasiroll.common.error.BadInputException;
import quasiroll.common.sampler.DecodeParams;
import quasiroll.common.sampler.SamplerSpec;
import quasiroll.common.sampler.VocabOrder;
import quasiroll.v1.SampleResult;
import quasiroll.worker.engine.ResolvedShard;
import quasiroll.worker.engine.ShardRunner;
import quasiroll.worker.model.DType;
import quasiroll.worker.model.fixture.GgufFixtureWriter;
import quasiroll.worker.model.fixture.TinyModel;
import quasiroll.worker.model.fixture.TinyModelSpec;

/**
 * A worker started with {@code --config FILE} builds its model backend with that file's worker
 * settings: the configuration is passed down from the node, not re-read by the loader.
 */
class ShardRunnerFactoryConfigTest {
  @TempDir Path tmp;

  private static ResolvedShard shard(int k) {
    return new ResolvedShard(
        "j",
        "p",
        "Once upon a time",
        new int[0],
        k,
        java.util.stream.IntStream.range(0, k).toArray(),
        SamplerSpec.of("iid"),
        new DecodeParams(1.0, 0, 1.0, 0.0, VocabOrder.ID, 3, List.of(), List.of()),
        7);
  }

  @Test
  void theConfigFilesMemoryBudgetReachesTheCpuBackend() throws Exception {
    Path gguf =
        GgufFixtureWriter.write(
            TinyModel.generate(TinyModelSpec.qwen2Tied(31)), tmp.resolve("m.gguf"), DType.F32);
    // The default budget (8 GiB) runs the shard.
    ShardRunner defaults =
        ShardRunnerFactory.fromConfig(QuasirollConfig.load(null)).open(gguf.toString(), "cpu", 4);
    List<SampleResult> out = new ArrayList<>();
    defaults.run(shard(4), out::add, () -> false);
    assertEquals(4, out.size());
    // A --config file with a 1 KiB budget: the same shard is refused with the budget's numbers.
    Path file = tmp.resolve("worker.conf");
    Files.writeString(file, "quasiroll.worker.memory-budget-bytes = 1024\n");
    ShardRunner tight =
        ShardRunnerFactory.fromConfig(QuasirollConfig.load(file)).open(gguf.toString(), "cpu", 4);
    BadInputException e =
        assertThrows(BadInputException.class, () -> tight.run(shard(4), r -> {}, () -> false));
    assertTrue(e.getMessage().contains("1024"), e.getMessage());
  }

  @Test
  void aBadWorkerSettingInTheFileIsRefusedByName() throws Exception {
    Path file = tmp.resolve("worker.conf");
    Files.writeString(file, "quasiroll.worker.cpu-threads = -2\n");
    BadInputException e =
        assertThrows(
            BadInputException.class,
            () -> ShardRunnerFactory.fromConfig(QuasirollConfig.load(file)));
    assertTrue(e.getMessage().contains("quasiroll.worker.cpu-threads is -2"), e.getMessage());
  }
}
