package quasiroll.coordinator.events;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import quasiroll.v1.JobEvent;
import quasiroll.v1.JobState;
import quasiroll.v1.JobStatus;

class JobEventLogTest {
  @Test
  void offsetsAreDenseListenersHearAppendsNothingAfterTheFinalStatus() {
    JobEventLog log = new JobEventLog();
    AtomicInteger heard = new AtomicInteger();
    log.addListener(heard::incrementAndGet);
    assertEquals(0, log.append(JobEvent.newBuilder().setStatus(JobStatus.newBuilder().setState(JobState.JOB_STATE_QUEUED))));
    assertEquals(1, log.append(JobEvent.newBuilder().setStatus(JobStatus.newBuilder().setState(JobState.JOB_STATE_SUCCEEDED))));
    assertEquals(2, heard.get());
    assertTrue(log.finished());
    assertEquals(1, log.get(1).getOffset());
    assertThrows(IllegalStateException.class, () -> log.append(JobEvent.newBuilder()));
  }
}
