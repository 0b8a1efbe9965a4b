package quasiroll.sweep;

import java.util.Collections;
import java.util.Iterator;
import java.util.NoSuchElementException;
import quasiroll.v1.JobEvent;
import quasiroll.v1.JobEventBatch;

/** Client side of {@code StreamJobBatches}: the batches' events, one by one, in order. */
public final class EventBatches {
  private EventBatches() {}

  /** The events of a batched stream (the batches' order, then each batch's). */
  public static Iterator<JobEvent> flatten(Iterator<JobEventBatch> batches) {
    return new Iterator<>() {
      private Iterator<JobEvent> current = Collections.emptyIterator();

      @Override
      public boolean hasNext() {
        while (!current.hasNext() && batches.hasNext()) {
          current = batches.next().getEventsList().iterator();
        }
        return current.hasNext();
      }

      @Override
      public JobEvent next() {
        if (!hasNext()) {
          throw new NoSuchElementException();
        }
        return current.next();
      }
    };
  }
}
