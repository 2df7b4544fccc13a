package dev.outbox.internal;

import org.slf4j.Logger;

/** Calls listener code so that its exceptions never change the processor's course. Internal. */
final class Listeners {

  private Listeners() {}

  static void call(Logger log, Runnable call) {
    try {
      call.run();
    } catch (RuntimeException e) {
      log.warn("an OutboxListener threw; ignored", e);
    }
  }
}
