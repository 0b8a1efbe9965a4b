package quasiroll.worker.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import org.junit.jupiter.api.Test;
import quasiroll.common.config.QuasirollConfig;

/**
 * The worker's progress cadence comes from the configuration the node loaded, not a reload of the
 * defaults.
 */
class WorkerAgentProgressTest {
  @Test
  void progressSettingsComeFromTheGivenConfig() {
    Config node =
        ConfigFactory.parseString(
                "quasiroll.worker.progress-every-tokens = 7\n"
                    + "quasiroll.worker.progress-every = 135ms\n")
            .withFallback(QuasirollConfig.load(null));
    assertEquals(new WorkerAgent.Progress(7, 135), WorkerAgent.Progress.from(node));
    // The defaults differ, so reading QuasirollConfig.load(null) instead would fail above.
    WorkerAgent.Progress defaults = WorkerAgent.Progress.from(QuasirollConfig.load(null));
    assertTrue(defaults.everyTokens() != 7 && defaults.everyMs() != 135, defaults.toString());
  }

  @Test
  void badProgressSettingsAreRefusedByName() {
    Config bad =
        ConfigFactory.parseString("quasiroll.worker.progress-every-tokens = 0")
            .withFallback(QuasirollConfig.load(null));
    var e =
        assertThrows(
            quasiroll.common.error.BadInputException.class, () -> WorkerAgent.Progress.from(bad));
    assertTrue(
        e.getMessage().contains("quasiroll.worker.progress-every-tokens is 0"), e.getMessage());
  }
}
