package dev.outbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MessageTest {

  @Test
  void isImmutableThroughDefensiveCopies() {
    byte[] key = {1, 2};
    byte[] payload = {3, 4};
    Map<String, String> headers = new HashMap<>(Map.of("a", "1"));
    Message m = Message.builder().namespace("n").key(key).payload(payload).headers(headers).build();

    key[0] = 9;
    payload[0] = 9;
    headers.put("b", "2");
    m.payload()[1] = 9;
    m.key()[1] = 9;

    assertThat(m.key()).containsExactly(1, 2);
    assertThat(m.payload()).containsExactly(3, 4);
    assertThat(m.headers()).containsExactly(Map.entry("a", "1"));
    assertThatThrownBy(() -> m.headers().put("c", "3"))
        .isInstanceOf(UnsupportedOperationException.class);
  }

  @Test
  void nullAndEmptyKeysAreDifferentValues() {
    Message noKey = Message.builder().namespace("n").payload("p").build();
    Message emptyKey = Message.builder().namespace("n").key(new byte[0]).payload("p").build();

    assertThat(noKey.key()).isNull();
    assertThat(emptyKey.key()).isEmpty();
    assertThat(noKey).isNotEqualTo(emptyKey);
    assertThat(emptyKey.toBuilder().build()).isEqualTo(emptyKey).hasSameHashCodeAs(emptyKey);
  }

  @Test
  void badFieldsAreNamed() {
    assertThatThrownBy(() -> Message.builder().payload("p").build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("namespace is required");
    assertThatThrownBy(() -> Message.builder().namespace("x".repeat(256)).payload("p").build())
        .hasMessageContaining("256 characters long; the limit is 255");
    assertThatThrownBy(() -> Message.builder().namespace("n").build())
        .hasMessageContaining("payload is required");
    assertThatThrownBy(() -> Message.builder().header("", "v"))
        .hasMessageContaining("header name must not be null or empty");
    assertThatThrownBy(() -> Message.builder().header("h", null))
        .hasMessageContaining("header 'h' has a null value");
  }

  @Test
  void sizeCountsKeyPayloadNamespaceAndHeadersInUtf8() {
    Message m = Message.builder().namespace("né").key("k").payload("ü").header("h", "✓").build();

    assertThat(m.sizeInBytes()).isEqualTo(3 + 1 + 2 + 1 + 3);
  }
}
