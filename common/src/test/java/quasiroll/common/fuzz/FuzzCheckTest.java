package quasiroll.common.fuzz;

import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import quasiroll.common.error.BadInputException;

class FuzzCheckTest {
  private static final byte[] INPUT = "k = [1".getBytes(StandardCharsets.UTF_8);

  @Test
  void passesWhenTheCallReturnsOrRefusesTheInput() {
    AtomicBoolean ran = new AtomicBoolean();
    FuzzCheck.check("ok", 7, 0, INPUT, Duration.ofSeconds(10), () -> ran.set(true));
    assertTrue(ran.get());
    FuzzCheck.check(
        "refusal",
        7,
        1,
        INPUT,
        Duration.ofSeconds(10),
        () -> {
          throw new BadInputException("k is not closed");
        });
  }

  @Test
  void failsOnAnyOtherThrowableNamingSeedIterationAndInput() {
    RuntimeException crash = new ArrayIndexOutOfBoundsException(3);
    AssertionError e =
        assertThrows(
            AssertionError.class,
            () ->
                FuzzCheck.check(
                    "parser",
                    7,
                    12,
                    INPUT,
                    Duration.ofSeconds(10),
                    () -> {
                      throw crash;
                    }));
    assertSame(crash, e.getCause());
    assertTrue(
        e.getMessage().contains("parser threw " + crash + " on mutation 12 of seed 7: k = [1"),
        e.getMessage());
  }

  @Test
  void failsOnAHangAndInterruptsIt() throws Exception {
    AtomicBoolean interrupted = new AtomicBoolean();
    AssertionError e =
        assertThrows(
            AssertionError.class,
            () ->
                FuzzCheck.check(
                    "parser",
                    7,
                    3,
                    INPUT,
                    Duration.ofMillis(100),
                    () -> {
                      try {
                        Thread.sleep(60_000);
                      } catch (InterruptedException stopped) {
                        interrupted.set(true);
                      }
                    }));
    assertTrue(e.getMessage().startsWith("parser hung on mutation 3 of seed 7"), e.getMessage());
    for (int i = 0; i < 100 && !interrupted.get(); i++) {
      Thread.sleep(10);
    }
    assertTrue(interrupted.get(), "the hung call was not interrupted");
  }
}
