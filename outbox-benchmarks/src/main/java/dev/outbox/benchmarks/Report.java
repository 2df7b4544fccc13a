package dev.outbox.benchmarks;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Collects figures and ratios and prints them twice: a table for people, then one {@code
 * name=value} line per figure (and its {@code .min} / {@code .max}) for machines.
 */
final class Report {

  private final Map<String, Figure> figures = new LinkedHashMap<>();
  private final PrintStream progress;
  private final List<String[]> ratios = new ArrayList<>(); // name, value, meaning

  /**
   * @param progress where each sample is echoed as it is taken
   */
  Report(PrintStream progress) {
    this.progress = progress;
  }

  /** Adds a sample to the figure of this name (created on first use) and echoes it. */
  void add(String name, String unit, String description, double sample) {
    figure(name, unit, description).add(sample);
    progress.printf(
        Locale.ROOT, "  %-34s %12s %s%n", name, fmt(sample, sample < 100 ? 2 : 0), unit);
  }

  /** The figure of this name, created on first use. */
  Figure figure(String name, String unit, String description) {
    return figures.computeIfAbsent(name, n -> new Figure(n, unit, description));
  }

  Figure get(String name) {
    return figures.get(name);
  }

  /** Records {@code numerator / denominator} of two figures' medians, when both exist. */
  void ratio(String name, String numerator, String denominator, String meaning) {
    Figure a = figures.get(numerator);
    Figure b = figures.get(denominator);
    if (a == null || b == null || a.count() == 0 || b.count() == 0 || b.median() == 0) {
      return;
    }
    ratios.add(new String[] {name, fmt(a.median() / b.median(), 3), meaning});
  }

  void print(PrintStream out) {
    out.println();
    String header =
        String.format(
            Locale.ROOT,
            "%-34s %12s %12s %12s  %-7s %s",
            "figure",
            "median",
            "min",
            "max",
            "unit",
            "what");
    out.println(header);
    out.println("-".repeat(header.length() + 30));
    for (Figure f : figures.values()) {
      if (f.count() == 0) {
        continue;
      }
      int digits = f.median() < 100 ? 2 : 0;
      out.println(
          String.format(
              Locale.ROOT,
              "%-34s %12s %12s %12s  %-7s %s",
              f.name(),
              fmt(f.median(), digits),
              fmt(f.min(), digits),
              fmt(f.max(), digits),
              f.unit(),
              f.description()));
    }
    if (!ratios.isEmpty()) {
      out.println();
      out.println(
          String.format(Locale.ROOT, "%-34s %12s  %s", "ratio (of medians)", "value", "meaning"));
      out.println("-".repeat(80));
      for (String[] r : ratios) {
        out.println(String.format(Locale.ROOT, "%-34s %12s  %s", r[0], r[1], r[2]));
      }
    }
    out.println();
    out.println("# machine-readable: name=value (median), name.min=, name.max=");
    for (Figure f : figures.values()) {
      if (f.count() == 0) {
        continue;
      }
      out.println(f.name() + "=" + fmt(f.median(), 3));
      out.println(f.name() + ".min=" + fmt(f.min(), 3));
      out.println(f.name() + ".max=" + fmt(f.max(), 3));
    }
    for (String[] r : ratios) {
      out.println(r[0] + "=" + r[1]);
    }
  }

  static String fmt(double v, int digits) {
    return String.format(Locale.ROOT, "%." + digits + "f", v);
  }
}
