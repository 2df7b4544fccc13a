package dev.outbox.postgres;

import dev.outbox.ClaimedEntry;
import dev.outbox.Outbox;
import java.time.Duration;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.statement.PreparedBatch;

/**
 * One processor process of {@link PostgresCrashTest}: an outbox over the shared table whose
 * publisher records every delivery in a table of its own, then deletes nothing itself. It runs
 * until it is killed. Arguments: JDBC URL, table, processor id.
 */
public final class CrashWorker {

  private CrashWorker() {}

  public static void main(String[] args) throws Exception {
    String url = args[0];
    String table = args[1];
    String processorId = args[2];
    Jdbi jdbi = Jdbi.create(url);
    PostgresStorage storage = PostgresStorage.builder(jdbi).tableName(table).build();
    String deliveries = table + "_deliveries";
    Outbox<Handle> outbox =
        Outbox.builder(
                storage,
                entries ->
                    jdbi.useHandle(
                        h -> {
                          PreparedBatch batch =
                              h.prepareBatch(
                                  "INSERT INTO "
                                      + deliveries
                                      + " (entry_id, processor) VALUES (?, ?)");
                          for (ClaimedEntry e : entries) {
                            batch.bind(0, e.id()).bind(1, processorId).add();
                          }
                          batch.execute();
                        }))
            .processorId(processorId)
            .batchSize(200)
            .claimDuration(Duration.ofSeconds(2))
            .processInterval(Duration.ofMillis(50))
            .build();
    outbox.start();
    System.out.println("ready " + processorId);
    System.out.flush();
    Thread.currentThread().join(); // until killed
  }
}
