package dev.outbox.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.outbox.Message;
import dev.outbox.NewEntry;
import dev.outbox.OutboxException;
import java.sql.Connection;
import java.time.Instant;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What MySQL/MariaDB's {@code max_allowed_packet} means for a message, measured: a payload of 7/16
 * of it is written and read back byte for byte, one of 9/16 is refused with an error that names the
 * limit (so at MariaDB's 16 MiB default: 7 MiB passes, 9 MiB fails). A message needs about twice
 * its size there. The README's rule comes from this test.
 */
class MaxAllowedPacketTest {

  private static final TestDatabase.Kind DB = TestDatabase.Kind.MYSQL;
  private static final String TABLE = TestDatabase.PREFIX + "packet";

  private static JdbcStorage storage;
  private static long maxAllowedPacket;

  @BeforeAll
  static void table() {
    storage = TestDatabase.freshStorage(DB, TABLE);
    maxAllowedPacket = TestDatabase.queryLong(DB, "SELECT @@max_allowed_packet");
    System.out.println("max_allowed_packet = " + maxAllowedPacket + " bytes");
  }

  private static byte[] payload(long size) {
    byte[] b = new byte[Math.toIntExact(size)];
    new Random(size).nextBytes(b);
    b[0] = 0; // leading and trailing zero bytes are data too
    b[b.length - 1] = 0;
    return b;
  }

  private static void publish(byte[] payload) throws Exception {
    Message m = Message.builder().namespace("big").payload(payload).build();
    try (Connection c = TestDatabase.connect(DB)) {
      c.setAutoCommit(false);
      try {
        storage.publish(c, List.of(new NewEntry(UUID.randomUUID(), m, Instant.now())));
        c.commit();
      } finally {
        c.rollback();
      }
    }
  }

  @Test
  void aMessageOfSevenSixteenthsOfThePacketIsKeptExactly() throws Exception {
    TestDatabase.truncate(DB, TABLE);
    byte[] payload = payload(maxAllowedPacket * 7 / 16);

    publish(payload);

    List<byte[]> stored =
        storage
            .claim(
                new dev.outbox.ClaimRequest(
                    "p", UUID.randomUUID(), Instant.now(), Instant.now().plusSeconds(30), 1))
            .stream()
            .map(e -> e.message().payload())
            .toList();
    assertThat(stored).hasSize(1);
    assertThat(stored.get(0)).isEqualTo(payload);
  }

  @Test
  void aMessageOfNineSixteenthsOfThePacketIsRefusedNamingTheLimit() {
    byte[] payload = payload(maxAllowedPacket * 9 / 16);

    assertThatThrownBy(() -> publish(payload))
        .isInstanceOf(OutboxException.class)
        .hasMessageContaining("max_allowed_packet")
        .satisfies(e -> System.out.println(payload.length + " bytes refused: " + e.getMessage()));
  }
}
