package dev.outbox.testkit;

import dev.outbox.ClaimRequest;
import dev.outbox.ClaimedEntry;
import dev.outbox.DeadLetter;
import dev.outbox.FailedEntry;
import dev.outbox.Message;
import dev.outbox.NewEntry;
import dev.outbox.ProcessorStorage;
import java.time.Instant;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;

/**
 * Deliberately broken storages, each wrapping an {@link InMemoryStorage} with one bug, and the
 * {@link ProcessorStorageContract} run against each. Not tests themselves (Surefire skips nested
 * classes): {@link StorageContractCatchesBrokenStoragesTest} runs them with the JUnit Platform's
 * EngineTestKit and checks which rule each one breaks.
 */
final class BrokenStorages {

  private BrokenStorages() {}

  /** A storage that forwards every call to an InMemoryStorage; subclasses add one bug. */
  static class Forwarding extends ForwardingStorage<InMemoryStorage.Transaction> {
    final InMemoryStorage<InMemoryStorage.Transaction> inner;

    Forwarding(InMemoryStorage<InMemoryStorage.Transaction> inner) {
      super(inner);
      this.inner = inner;
    }
  }

  /** A forwarding storage that alters every message on its way in. */
  static class Altering extends Forwarding {
    private final UnaryOperator<Message> alter;

    Altering(InMemoryStorage<InMemoryStorage.Transaction> inner, UnaryOperator<Message> alter) {
      super(inner);
      this.alter = alter;
    }

    @Override
    public void publish(InMemoryStorage.Transaction txn, List<NewEntry> entries) {
      super.publish(
          txn,
          entries.stream()
              .map(e -> new NewEntry(e.messageId(), alter.apply(e.message()), e.createdAt()))
              .toList());
    }
  }

  /** The contract over a broken storage; a subclass says which bug. */
  abstract static class Contract extends ProcessorStorageContract<InMemoryStorage.Transaction> {
    private InMemoryStorage<InMemoryStorage.Transaction> memory;

    abstract ProcessorStorage<InMemoryStorage.Transaction> broken(
        InMemoryStorage<InMemoryStorage.Transaction> inner);

    @Override
    protected ProcessorStorage<InMemoryStorage.Transaction> newEmptyStorage() {
      memory = new InMemoryStorage<>();
      return broken(memory);
    }

    @Override
    protected void inTransaction(Consumer<InMemoryStorage.Transaction> work) {
      try (InMemoryStorage.Transaction tx = memory.begin()) {
        work.accept(tx);
        tx.commit();
      }
    }

    @Override
    protected void inRolledBackTransaction(Consumer<InMemoryStorage.Transaction> work) {
      try (InMemoryStorage.Transaction tx = memory.begin()) {
        work.accept(tx);
        tx.rollback();
      }
    }

    @Override
    protected int concurrentBacklogSize() {
      return 300;
    }
  }

  private static byte[] trimTrailingZeros(byte[] b) {
    if (b == null) {
      return null;
    }
    int end = b.length;
    while (end > 0 && b[end - 1] == 0) {
      end--;
    }
    return Arrays.copyOf(b, end);
  }

  private static Map<String, String> mapHeaders(
      Map<String, String> headers, UnaryOperator<String> names, UnaryOperator<String> values) {
    Map<String, String> out = new LinkedHashMap<>();
    headers.forEach((k, v) -> out.put(names.apply(k), values.apply(v)));
    return out;
  }

  private static Message withHeaders(Message m, Map<String, String> headers) {
    return Message.builder()
        .namespace(m.namespace())
        .key(m.key())
        .payload(m.payload())
        .headers(headers)
        .build();
  }

  // ---------------------------------------------------------------- the broken storages

  /** Trims trailing zero bytes of keys and payloads, as a C-string minded driver might. */
  static class TrimsTrailingZeros extends Contract {
    @Override
    ProcessorStorage<InMemoryStorage.Transaction> broken(
        InMemoryStorage<InMemoryStorage.Transaction> inner) {
      return new Altering(
          inner,
          m ->
              m.toBuilder()
                  .key(trimTrailingZeros(m.key()))
                  .payload(trimTrailingZeros(m.payload()))
                  .build());
    }
  }

  /** Truncates payloads to 4 KiB, as a too-small column would. */
  static class TruncatesPayloads extends Contract {
    @Override
    ProcessorStorage<InMemoryStorage.Transaction> broken(
        InMemoryStorage<InMemoryStorage.Transaction> inner) {
      return new Altering(
          inner,
          m ->
              m.toBuilder()
                  .payload(Arrays.copyOf(m.payload(), Math.min(m.payloadSize(), 4096)))
                  .build());
    }
  }

  /** Lower-cases header names. */
  static class LowerCasesHeaderNames extends Contract {
    @Override
    ProcessorStorage<InMemoryStorage.Transaction> broken(
        InMemoryStorage<InMemoryStorage.Transaction> inner) {
      return new Altering(
          inner, m -> withHeaders(m, mapHeaders(m.headers(), String::toLowerCase, v -> v)));
    }
  }

  /** Strips whitespace around header values. */
  static class StripsHeaderValues extends Contract {
    @Override
    ProcessorStorage<InMemoryStorage.Transaction> broken(
        InMemoryStorage<InMemoryStorage.Transaction> inner) {
      return new Altering(
          inner, m -> withHeaders(m, mapHeaders(m.headers(), k -> k, String::strip)));
    }
  }

  /** Writes in a transaction of its own that it commits, ignoring the caller's. */
  static class WritesOutsideTheTransaction extends Contract {
    @Override
    ProcessorStorage<InMemoryStorage.Transaction> broken(
        InMemoryStorage<InMemoryStorage.Transaction> inner) {
      return new Forwarding(inner) {
        @Override
        public void publish(InMemoryStorage.Transaction txn, List<NewEntry> entries) {
          try (InMemoryStorage.Transaction own = inner.begin()) {
            inner.publish(own, entries);
            own.commit();
          }
        }
      };
    }
  }

  /** Requeues all dead letters but keeps their attempts. */
  static class KeepsAttemptsOnRequeueAll extends Contract {
    @Override
    ProcessorStorage<InMemoryStorage.Transaction> broken(
        InMemoryStorage<InMemoryStorage.Transaction> inner) {
      return new Forwarding(inner) {
        private final Map<Long, Integer> kept = new ConcurrentHashMap<>();

        @Override
        public int requeueAllDeadLetters(Instant now) {
          for (DeadLetter d : inner.deadLetters(0, Integer.MAX_VALUE)) {
            kept.put(d.id(), d.attempts());
          }
          return inner.requeueAllDeadLetters(now);
        }

        @Override
        public List<ClaimedEntry> claim(ClaimRequest request) {
          return inner.claim(request).stream()
              .map(
                  e ->
                      kept.containsKey(e.id())
                          ? ClaimedEntry.builder()
                              .id(e.id())
                              .messageId(e.messageId())
                              .message(e.message())
                              .createdAt(e.createdAt())
                              .attempts(kept.get(e.id()))
                              .build()
                          : e)
              .toList();
        }
      };
    }
  }

  /**
   * Renews every listed entry whoever holds it, but returns only the count of its own token's: an
   * honest-looking count over a wrong change.
   */
  static class RenewsOtherTokensEntries extends Contract {
    @Override
    ProcessorStorage<InMemoryStorage.Transaction> broken(
        InMemoryStorage<InMemoryStorage.Transaction> inner) {
      return new Forwarding(inner) {
        private final Map<Long, UUID> holders = new ConcurrentHashMap<>();

        @Override
        public List<ClaimedEntry> claim(ClaimRequest request) {
          List<ClaimedEntry> claimed = inner.claim(request);
          claimed.forEach(e -> holders.put(e.id(), request.claimToken()));
          return claimed;
        }

        @Override
        public int renew(UUID claimToken, Collection<Long> ids, Instant deadline) {
          int mine = inner.renew(claimToken, ids, deadline);
          for (Long id : ids) {
            UUID holder = holders.get(id);
            if (holder != null && !holder.equals(claimToken)) {
              inner.renew(holder, List.of(id), deadline);
            }
          }
          return mine;
        }
      };
    }
  }

  /** Claims without hiding what it claimed: the lease is never set. */
  static class ClaimDoesNotHide extends Contract {
    @Override
    ProcessorStorage<InMemoryStorage.Transaction> broken(
        InMemoryStorage<InMemoryStorage.Transaction> inner) {
      return new Forwarding(inner) {
        @Override
        public List<ClaimedEntry> claim(ClaimRequest request) {
          List<ClaimedEntry> claimed = inner.claim(request);
          inner.renew(
              request.claimToken(), claimed.stream().map(ClaimedEntry::id).toList(), Instant.EPOCH);
          return claimed;
        }
      };
    }
  }

  /** Ignores the claim's limit. */
  static class IgnoresClaimLimit extends Contract {
    @Override
    ProcessorStorage<InMemoryStorage.Transaction> broken(
        InMemoryStorage<InMemoryStorage.Transaction> inner) {
      return new Forwarding(inner) {
        @Override
        public List<ClaimedEntry> claim(ClaimRequest r) {
          return inner.claim(
              new ClaimRequest(r.processorId(), r.claimToken(), r.now(), r.deadline(), 1_000_000));
        }
      };
    }
  }

  /** Returns the claimed entries newest first. */
  static class ReturnsNewestFirst extends Contract {
    @Override
    ProcessorStorage<InMemoryStorage.Transaction> broken(
        InMemoryStorage<InMemoryStorage.Transaction> inner) {
      return new Forwarding(inner) {
        @Override
        public List<ClaimedEntry> claim(ClaimRequest request) {
          List<ClaimedEntry> claimed = new java.util.ArrayList<>(inner.claim(request));
          java.util.Collections.reverse(claimed);
          return claimed;
        }
      };
    }
  }

  /** Does not keep the attempts a release gives it. */
  static class ForgetsAttempts extends Contract {
    @Override
    ProcessorStorage<InMemoryStorage.Transaction> broken(
        InMemoryStorage<InMemoryStorage.Transaction> inner) {
      return new Forwarding(inner) {
        @Override
        public int release(UUID claimToken, List<FailedEntry> failures) {
          return inner.release(
              claimToken,
              failures.stream()
                  .map(f -> new FailedEntry(f.id(), 0, f.retryAt(), f.error()))
                  .toList());
        }
      };
    }
  }

  /** Forgets to implement newEmptyStorage(). */
  static class NullStorage extends Contract {
    @Override
    ProcessorStorage<InMemoryStorage.Transaction> broken(
        InMemoryStorage<InMemoryStorage.Transaction> inner) {
      return null;
    }
  }
}
