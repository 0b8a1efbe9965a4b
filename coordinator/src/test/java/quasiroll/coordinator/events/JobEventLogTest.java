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
    assertEquals(
        0,
        log.append(
            JobEvent.newBuilder()
                .setStatus(JobStatus.newBuilder().setState(JobState.JOB_STATE_QUEUED))));
    assertEquals(
        1,
        log.append(
            JobEvent.newBuilder()
                .setStatus(JobStatus.newBuilder().setState(JobState.JOB_STATE_SUCCEEDED))));
    assertEquals(2, heard.get());
    assertTrue(log.finished());
    assertEquals(1, log.get(1).getOffset());
    assertThrows(IllegalStateException.class, () -> log.append(JobEvent.newBuilder()));
  }

  @Test
  void withAStoreEventsAreVisibleOnlyOnceCommittedAndOlderOnesAreReadBack(
      @org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) {
    try (quasiroll.coordinator.store.JobStore store =
        quasiroll.coordinator.store.JobStore.open(dir.resolve("s.db"))) {
      JobEventLogs logs = new JobEventLogs(store);
      store.stageJob("j1", "alice", quasiroll.v1.JobSpec.getDefaultInstance(), null, 0);
      JobEventLog log = logs.create("j1", "alice");
      AtomicInteger heard = new AtomicInteger();
      log.addListener(heard::incrementAndGet);
      int n = JobEventLog.WINDOW * 3 + 17;
      for (int i = 0; i < n; i++) {
        log.append(
            JobEvent.newBuilder()
                .setStatus(
                    JobStatus.newBuilder()
                        .setJobId("j1")
                        .setSamplesDone(i)
                        .setState(JobState.JOB_STATE_RUNNING)));
      }
      assertEquals(0, log.size(), "nothing visible before the commit");
      logs.commit();
      assertEquals(n, log.size());
      assertEquals(1, heard.get());
      for (int i = 0; i < n; i += 97) {
        assertEquals(i, log.get(i).getStatus().getSamplesDone());
        assertEquals(i, log.get(i).getOffset());
      }
      assertEquals(n, log.visible().size());
      log.append(
          JobEvent.newBuilder()
              .setStatus(JobStatus.newBuilder().setState(JobState.JOB_STATE_SUCCEEDED)));
      logs.commit();
      assertTrue(log.finished());
      // A finished job leaves memory and is read back from the store on request.
      JobEventLog again = logs.get("j1").orElseThrow();
      assertTrue(again != log);
      assertTrue(again.finished());
      assertEquals("alice", again.owner());
      assertEquals(n + 1, again.size());
      assertEquals(5, again.get(5).getStatus().getSamplesDone());
      assertEquals(JobState.JOB_STATE_SUCCEEDED, again.last().getStatus().getState());
    }
  }
}
