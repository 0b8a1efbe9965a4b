package quasiroll.worker.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import quasiroll.common.error.BadInputException;

class DeviceSpecTest {
  @Test
  void parsesCpuAndCudaDevices() {
    assertEquals(DeviceSpec.CPU, DeviceSpec.parse("cpu"));
    assertEquals(new DeviceSpec(DeviceSpec.Kind.CUDA, 0), DeviceSpec.parse("cuda"));
    assertEquals(new DeviceSpec(DeviceSpec.Kind.CUDA, 3), DeviceSpec.parse("cuda:3"));
    assertEquals("cuda:3", DeviceSpec.parse("cuda:3").toString());
    assertTrue(DeviceSpec.parse("cuda:0").isCuda());
  }

  @Test
  void refusesOtherSpellingsNamingTheAcceptedForms() {
    for (String bad : new String[] {"gpu", "cuda:", "cuda:x", "cuda:-1", "", "CUDA:0"}) {
      BadInputException e = assertThrows(BadInputException.class, () -> DeviceSpec.parse(bad));
      assertTrue(e.getMessage().contains("cpu, cuda or cuda:N"), e.getMessage());
    }
  }
}
