package quasiroll.coordinator;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import quasiroll.common.error.BadInputException;

class CoordinatorNodeTest {
  @Test
  void refusesToBindANonLoopbackAddressWithoutAToken() {
    var config =
        ConfigFactory.load().withValue("quasiroll.auth.token", ConfigValueFactory.fromAnyRef(""));
    var options =
        new CoordinatorNode.Options("0.0.0.0", 0, 0, 0, Path.of("data"), Path.of("out"), List.of());
    BadInputException e =
        assertThrows(BadInputException.class, () -> CoordinatorNode.run(options, config));
    assertTrue(
        e.getMessage().contains("--bind 0.0.0.0") && e.getMessage().contains("token"),
        e.getMessage());
  }

  @Test
  void refusesToBindANonLoopbackAddressWithoutTls() {
    var config =
        ConfigFactory.load()
            .withValue("quasiroll.auth.token", ConfigValueFactory.fromAnyRef("0123456789abcdef"));
    var options =
        new CoordinatorNode.Options("0.0.0.0", 0, 0, 0, Path.of("data"), Path.of("out"), List.of());
    BadInputException e =
        assertThrows(BadInputException.class, () -> CoordinatorNode.run(options, config));
    assertTrue(
        e.getMessage().contains("--bind 0.0.0.0")
            && e.getMessage().contains("TLS is required")
            && e.getMessage().contains("quasiroll.tls.ca"),
        e.getMessage());
  }
}
