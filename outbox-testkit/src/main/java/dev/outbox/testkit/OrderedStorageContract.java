package dev.outbox.testkit;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.groups.Tuple.tuple;

import dev.outbox.BlockedKey;
import dev.outbox.ClaimRequest;
import dev.outbox.ClaimedEntry;
import dev.outbox.DeadLetterStorage;
import dev.outbox.FailedEntry;
import dev.outbox.Message;
import dev.outbox.Ordering;
import dev.outbox.Outbox;
import dev.outbox.ProcessorStorage;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The contract of an ordered {@link ProcessorStorage} ({@link ProcessorStorage#ordering()} {@link
 * Ordering#BY_KEY} or {@link Ordering#BY_KEY_BLOCKING}): everything {@link
 * ProcessorStorageContract} checks, and the per-key rules on top: a key's head only, runs of at
 * most {@code maxPerKey}, a failed head holding its followers, dead-lettered heads continuing
 * (BY_KEY) or blocking (BY_KEY_BLOCKING) their key, blocked keys listed, concurrent claimers never
 * holding two entries of one key, and a key's writers delivered in commit order.
 *
 * <p>Extend it instead of {@link ProcessorStorageContract} for a storage built with an ordering; a
 * storage that is not ordered fails every test here.
 *
 * @param <T> the storage's transaction handle
 */
public abstract class OrderedStorageContract<T> extends ProcessorStorageContract<T> {

  // ---------------------------------------------------------------- ordering (ordered storages)

  /** Every test here needs an ordered storage: a storage that is not fails, it is not skipped. */
  @BeforeEach
  void requireOrderedStorage() {
    assertThat(storage.ordering().byKey())
        .as(
            "%s extends OrderedStorageContract but its storage's ordering() is %s; extend"
                + " ProcessorStorageContract for an unordered storage",
            getClass().getSimpleName(), storage.ordering())
        .isTrue();
    assertThat(storage)
        .as("an ordered storage keeps dead letters (its heads are dead-lettered)")
        .isInstanceOf(DeadLetterStorage.class);
  }

  /** A message of key {@code key} in namespace {@code ord}, payload {@code key-i}. */
  private static Message keyed(String key, int i) {
    return Message.builder().namespace("ord").key(key).payload(key + "-" + i).build();
  }

  private static Message unkeyed(int i) {
    return Message.builder().namespace("ord").payload("u-" + i).build();
  }

  private List<ClaimedEntry> claimRun(String processor, Instant now, int limit, int maxPerKey) {
    UUID token = UUID.randomUUID();
    tokens.put(processor, token);
    ClaimRequest request =
        new ClaimRequest(processor, token, now, now.plus(LEASE), limit, maxPerKey);
    List<ClaimedEntry> claimed = bounded("claim(" + request + ")", () -> storage.claim(request));
    assertThat(claimed.size())
        .as("claim must return at most limit (%d) entries", limit)
        .isLessThanOrEqualTo(limit);
    assertThat(ids(claimed)).as("claim must return entries oldest (smallest id) first").isSorted();
    return claimed;
  }

  private static List<Long> idsOf(List<ClaimedEntry> entries, String payloadPrefix) {
    return entries.stream()
        .filter(e -> e.message().payloadAsString().startsWith(payloadPrefix))
        .map(ClaimedEntry::id)
        .toList();
  }

  @Test
  void orderedAKeysFollowersWaitWhileItsHeadIsClaimedBySomeoneElse() {
    publish(T0, List.of(keyed("a", 0), keyed("b", 0), keyed("a", 1), unkeyed(0), keyed("a", 2)));

    List<ClaimedEntry> first = claimRun("p1", T0, 10, 1);
    assertThat(payloads(first))
        .as("ordered, one per key: each key's head and the entries without a key")
        .containsExactly("a-0", "b-0", "u-0");
    assertThat(claimRun("p2", T0, 10, 10))
        .as("ordered: a key's later entries wait while its head is claimed by someone else")
        .isEmpty();

    delete(token("p1"), idsOf(first, "a-"));
    assertThat(payloads(claimRun("p2", T0, 10, 10)))
        .as("ordered: once the head is deleted, the next entries of its key are claimable")
        .containsExactly("a-1", "a-2");
  }

  @Test
  void orderedAClaimTakesARunOfAtMostMaxPerKeyConsecutiveEntries() {
    publish(
        T0,
        List.of(
            keyed("a", 0),
            keyed("a", 1),
            keyed("b", 0),
            keyed("a", 2),
            keyed("a", 3),
            unkeyed(0),
            keyed("a", 4)));

    List<ClaimedEntry> first = claimRun("p1", T0, 10, 3);
    assertThat(payloads(first))
        .as("ordered: a head with at most maxPerKey (3) consecutive entries of its key")
        .containsExactly("a-0", "a-1", "b-0", "a-2", "u-0");
    assertThat(claimRun("p2", T0, 10, 3)).as("ordered: the rest of a waits").isEmpty();

    delete(token("p1"), ids(first));
    assertThat(payloads(claimRun("p2", T0, 10, 3))).containsExactly("a-3", "a-4");
  }

  @Test
  void orderedTheLimitCutsRunsOldestFirst() {
    publish(T0, List.of(keyed("a", 0), keyed("b", 0), keyed("a", 1), keyed("a", 2)));

    assertThat(payloads(claimRun("p1", T0, 3, 3)))
        .as("ordered: at most limit entries, oldest first")
        .containsExactly("a-0", "b-0", "a-1");
    assertThat(claimRun("p2", T0, 3, 3)).as("ordered: a-2 waits for a-1, which p1 holds").isEmpty();
  }

  @Test
  void orderedAFailedHeadHoldsBackItsFollowersUntilItsRetry() {
    publish(T0, List.of(keyed("a", 0), keyed("a", 1), unkeyed(0)));
    List<ClaimedEntry> claimed = claimRun("p1", T0, 10, 10);
    assertThat(payloads(claimed)).containsExactly("a-0", "a-1", "u-0");
    Instant retryAt = T0.plusSeconds(10);

    release(
        token("p1"),
        List.of(
            new FailedEntry(claimed.get(0).id(), 1, retryAt, "head failed"),
            new FailedEntry(claimed.get(1).id(), 0, T0, "given back behind its head")));
    delete(token("p1"), List.of(claimed.get(2).id()));
    publish(T0, List.of(unkeyed(1)));

    assertThat(payloads(claimRun("p2", retryAt.minusMillis(1), 10, 10)))
        .as(
            "ordered: a failed head waiting for its retry holds back its key's later entries,"
                + " however available they are; entries without a key are unaffected")
        .containsExactly("u-1");
    assertThat(payloads(claimRun("p3", retryAt, 10, 10)))
        .as("ordered: at its retry time the head comes back, with its followers")
        .containsExactly("a-0", "a-1");
  }

  @Test
  void orderedAFollowerThatIsNotAvailableEndsTheRun() {
    publish(T0, List.of(keyed("a", 0), keyed("a", 1), keyed("a", 2)));
    List<ClaimedEntry> claimed = claimRun("p1", T0, 10, 10);
    assertThat(claimed).hasSize(3);
    // The head is published; the second entry failed and waits; the third was given back.
    delete(token("p1"), List.of(claimed.get(0).id()));
    release(
        token("p1"),
        List.of(
            new FailedEntry(claimed.get(1).id(), 1, T0.plusSeconds(10), "failed"),
            new FailedEntry(claimed.get(2).id(), 0, T0, "behind it")));

    assertThat(claimRun("p2", T0.plusSeconds(5), 10, 10))
        .as("ordered: the key's head is the failed entry; nothing of the key before its retry")
        .isEmpty();
    assertThat(payloads(claimRun("p2", T0.plusSeconds(10), 10, 10))).containsExactly("a-1", "a-2");
  }

  @Test
  void orderedADeadLetteredHeadLetsItsKeyContinueOrBlocksIt() {
    publish(T0, List.of(keyed("a", 0), keyed("a", 1), keyed("a", 2), keyed("b", 0)));
    List<ClaimedEntry> claimed = claimRun("p1", T0, 10, 1);
    assertThat(payloads(claimed)).containsExactly("a-0", "b-0");
    long head = claimed.get(0).id();
    deadLetter(token("p1"), List.of(new FailedEntry(head, 3, T0, "poison")), T0);
    delete(token("p1"), List.of(claimed.get(1).id()));

    List<ClaimedEntry> next = claimRun("p2", T0, 10, 10);
    if (storage.ordering() == Ordering.BY_KEY) {
      assertThat(payloads(next))
          .as("BY_KEY: a key whose head is dead-lettered continues with its next entries")
          .containsExactly("a-1", "a-2");
      assertThat(dead().blockedKeys(10)).as("BY_KEY blocks no key").isEmpty();
      return;
    }
    assertThat(next).as("BY_KEY_BLOCKING: a key with a dead letter is held back").isEmpty();
    List<BlockedKey> blocked = dead().blockedKeys(10);
    assertThat(blocked)
        .as("blockedKeys lists the key, its dead letter and how many entries wait")
        .containsExactly(new BlockedKey("ord", "a".getBytes(UTF_8), List.of(head), 2));

    assertThat(dead().requeueDeadLetters(List.of(head), T0)).isEqualTo(1);
    assertThat(dead().blockedKeys(10)).as("a requeued key is no longer blocked").isEmpty();
    assertThat(payloads(claimRun("p3", T0, 10, 10)))
        .as("BY_KEY_BLOCKING: the requeued dead letter goes first, then the rest follow")
        .containsExactly("a-0", "a-1", "a-2");
  }

  @Test
  void orderedAPurgedDeadLetterUnblocksItsKey() {
    publish(T0, List.of(keyed("a", 0), keyed("a", 1), keyed("b", 0), keyed("b", 1), unkeyed(0)));
    List<ClaimedEntry> claimed = claimRun("p1", T0, 10, 1);
    assertThat(payloads(claimed)).containsExactly("a-0", "b-0", "u-0");
    deadLetter(
        token("p1"),
        List.of(
            new FailedEntry(claimed.get(0).id(), 3, T0, "poison a"),
            new FailedEntry(claimed.get(1).id(), 3, T0, "poison b")),
        T0);
    delete(token("p1"), List.of(claimed.get(2).id()));

    if (storage.ordering() == Ordering.BY_KEY) {
      assertThat(dead().blockedKeys(10)).as("BY_KEY blocks no key").isEmpty();
      assertThat(payloads(claimRun("p2", T0, 10, 10)))
          .as("BY_KEY: keys whose heads were dead-lettered continue at once")
          .containsExactly("a-1", "b-1");
      return;
    }
    assertThat(dead().blockedKeys(10))
        .as("blockedKeys: by their smallest dead letter's id")
        .extracting(b -> new String(b.key(), UTF_8), BlockedKey::waiting)
        .containsExactly(tuple("a", 1L), tuple("b", 1L));
    assertThat(dead().blockedKeys(1)).as("blockedKeys returns at most limit").hasSize(1);
    assertThat(claimRun("p2", T0, 10, 10)).isEmpty();

    assertThat(dead().purgeDeadLetters(List.of(claimed.get(1).id()))).isEqualTo(1);
    assertThat(payloads(claimRun("p3", T0, 10, 10)))
        .as("BY_KEY_BLOCKING: a purged dead letter is skipped for good and its key continues")
        .containsExactly("b-1");
    assertThat(dead().blockedKeys(10))
        .extracting(b -> new String(b.key(), UTF_8))
        .containsExactly("a");
  }

  @Test
  void orderedHeadsThatFillTheClaimLeaveTheirFollowersForLater() {
    List<Message> messages = new ArrayList<>();
    for (int seq = 0; seq < 3; seq++) {
      for (int k = 0; k < 10; k++) {
        messages.add(keyed("k" + k, seq));
      }
    }
    publish(T0, messages);

    assertThat(payloads(claimRun("p1", T0, 5, 5)))
        .as("the heads alone fill the claim: the 5 oldest, no follower")
        .containsExactly("k0-0", "k1-0", "k2-0", "k3-0", "k4-0");
    assertThat(payloads(claimRun("p2", T0, 30, 30)))
        .as("the other keys with their runs; the claimed keys' followers wait for their heads")
        .containsExactly(
            "k5-0", "k6-0", "k7-0", "k8-0", "k9-0", "k5-1", "k6-1", "k7-1", "k8-1", "k9-1", "k5-2",
            "k6-2", "k7-2", "k8-2", "k9-2");
    assertThat(claimRun("p3", T0, 30, 30)).as("every key is held").isEmpty();
  }

  @Test
  void orderedEntriesWithoutAKeyAreClaimedAsUsual() {
    publish(T0, List.of(unkeyed(0), unkeyed(1), unkeyed(2), unkeyed(3)));

    assertThat(payloads(claimRun("p1", T0, 2, 1))).containsExactly("u-0", "u-1");
    assertThat(payloads(claimRun("p2", T0, 2, 1)))
        .as("ordered: entries without a key are never held back")
        .containsExactly("u-2", "u-3");
  }

  @Test
  void orderedTheSameKeyInAnotherNamespaceIsAnotherKey() {
    Message x = Message.builder().namespace("n1").key("k").payload("n1-0").build();
    Message y = Message.builder().namespace("n2").key("k").payload("n2-0").build();
    publish(T0, List.of(x, y));

    assertThat(payloads(claimRun("p1", T0, 10, 1)))
        .as("ordered: a key is the pair of namespace and key")
        .containsExactly("n1-0", "n2-0");
  }

  @Test
  void orderedConcurrentClaimersNeverHoldTwoEntriesOfOneKeyAtOnce() throws Exception {
    int keys = 20;
    int perKey = orderedBacklogPerKey();
    List<Message> all = new ArrayList<>();
    for (int i = 0; i < perKey; i++) {
      for (int k = 0; k < keys; k++) {
        all.add(keyed("k" + k, i));
      }
      all.add(unkeyed(i));
    }
    for (int from = 0; from < all.size(); from += 500) {
      publish(T0, all.subList(from, Math.min(all.size(), from + 500)));
    }
    int threads = 4;
    Map<String, String> holders = new HashMap<>();
    Map<String, List<Integer>> delivered = new HashMap<>();
    List<String> violations = new ArrayList<>();
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<Integer>> results = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        String processor = "ordered-" + t;
        Random random = new Random(t);
        results.add(
            pool.submit(
                () -> {
                  int mine = 0;
                  int idle = 0;
                  while (idle < 50 && !Thread.currentThread().isInterrupted()) {
                    UUID token = UUID.randomUUID();
                    List<ClaimedEntry> batch =
                        storage.claim(
                            new ClaimRequest(
                                processor, token, T0, T0.plus(LEASE), 10, 1 + random.nextInt(4)));
                    if (batch.isEmpty()) {
                      idle++;
                      Thread.sleep(2);
                      continue;
                    }
                    idle = 0;
                    Set<String> held = new HashSet<>();
                    synchronized (holders) {
                      for (ClaimedEntry e : batch) {
                        String p = e.message().payloadAsString();
                        String key = p.substring(0, p.indexOf('-'));
                        if (key.equals("u")) {
                          continue;
                        }
                        String other = holders.get(key);
                        if (other != null && !other.equals(processor)) {
                          violations.add(
                              processor + " claimed " + p + " while " + other + " held " + key);
                        }
                        holders.put(key, processor);
                        held.add(key);
                        delivered
                            .computeIfAbsent(key, x -> new ArrayList<>())
                            .add(Integer.parseInt(p.substring(p.indexOf('-') + 1)));
                      }
                    }
                    Thread.sleep(random.nextInt(3));
                    synchronized (holders) {
                      held.forEach(holders::remove);
                    }
                    mine += storage.delete(token, ids(batch));
                  }
                  return mine;
                }));
      }
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(CALL_LIMIT_SECONDS * 4L);
      int total = 0;
      for (Future<Integer> f : results) {
        try {
          total += f.get(Math.max(1, end - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
          throw new AssertionError(
              "ordered concurrent claimers must drain " + all.size() + " entries in time");
        }
      }
      assertThat(violations)
          .as("ordered: two claimers must never hold entries of one key at once")
          .isEmpty();
      assertThat(total)
          .as("ordered concurrent claimers must drain every entry")
          .isEqualTo(all.size());
      for (int k = 0; k < keys; k++) {
        assertThat(delivered.get("k" + k))
            .as("ordered: key k%d must be claimed in id order, each entry once", k)
            .containsExactlyElementsOf(IntStream.range(0, perKey).boxed().toList());
      }
    } finally {
      pool.shutdownNow();
    }
  }

  /** Entries per key in the ordered concurrency test (20 keys plus as many without a key). */
  protected int orderedBacklogPerKey() {
    return 30;
  }

  @Test
  void orderedAKeysWritersAreDeliveredInCommitOrder() throws Exception {
    // T1 publishes key K in an open transaction (its entry gets the smaller id); T2 publishes K
    // on another connection and commits; T1 commits after. Without a per-key lock in publish, T2
    // commits first but has the larger id and would be delivered second. With the lock, T2 waits
    // in publish until T1 commits.
    List<String> commits = java.util.Collections.synchronizedList(new ArrayList<>());
    java.util.concurrent.CountDownLatch t1Published = new java.util.concurrent.CountDownLatch(1);
    ExecutorService second = Executors.newSingleThreadExecutor();
    try {
      Future<?>[] t2 = new Future<?>[1];
      committed(
          txn -> {
            storage.publish(txn, newEntries(T0, List.of(keyed("K", 1))));
            t2[0] =
                second.submit(
                    () -> {
                      awaitQuietly(t1Published);
                      inTransaction(
                          tx2 -> storage.publish(tx2, newEntries(T0, List.of(keyed("K", 2)))));
                      commits.add("K-2");
                      return null;
                    });
            t1Published.countDown();
            try {
              t2[0].get(orderedWriterWaitMillis(), TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
              // T2 waits for this transaction's lock on K: as it must.
            } catch (InterruptedException | ExecutionException e) {
              throw new AssertionError("the second writer failed", e);
            }
            commits.add("K-1"); // T1's commit follows: T2 cannot commit in between if it waits
          });
      t2[0].get(CALL_LIMIT_SECONDS, TimeUnit.SECONDS);
    } finally {
      second.shutdownNow();
    }
    RecordingPublisher publisher = new RecordingPublisher();
    Outbox<T> outbox = outbox(new FakeClock(), publisher, null);
    pump(outbox);
    pump(outbox);

    assertThat(publisher.messages())
        .extracting(Message::payloadAsString)
        .as(
            "ordered: a key's messages must be delivered in the order their transactions"
                + " committed (publish must lock the key until its transaction ends)")
        .containsExactlyElementsOf(commits);
  }

  /** How long the commit-order test's first writer waits for the second before it commits. */
  protected long orderedWriterWaitMillis() {
    return 1000;
  }

  private static void awaitQuietly(java.util.concurrent.CountDownLatch latch) {
    try {
      latch.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
