package dev.outbox.jdbc;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A dialect's schema file, rendered for one table name. The file names its tables {@code outbox}
 * and {@code outbox_dead_letters}, unquoted, so that it runs as it is from Flyway or Liquibase; the
 * names are replaced in the SQL only, never in the {@code --} comments beside it.
 */
final class SchemaScript {

  private static final Pattern SCRIPT_TABLE =
      Pattern.compile("(?<![\\w.\"`])outbox(_dead_letters)?(?![\\w.\"`])");

  private SchemaScript() {}

  /** The script at {@code resource} with the table names of {@code table}. */
  static String render(String resource, TableName table) {
    String script;
    try (InputStream in = SchemaScript.class.getClassLoader().getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException(resource + " is missing from the class path");
      }
      script = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + resource, e);
    }
    StringBuilder out = new StringBuilder(script.length() + 64);
    for (String line : script.split("\n", -1)) {
      int comment = line.indexOf("--");
      String code = comment < 0 ? line : line.substring(0, comment);
      Matcher m = SCRIPT_TABLE.matcher(code);
      while (m.find()) {
        String name = m.group(1) == null ? table.sql() : table.deadLetterSql();
        m.appendReplacement(out, Matcher.quoteReplacement(name));
      }
      m.appendTail(out);
      if (comment >= 0) {
        out.append(line, comment, line.length());
      }
      out.append('\n');
    }
    out.setLength(out.length() - 1);
    return out.toString();
  }

  /** The script's statements, comments removed, for executing one by one over JDBC. */
  static List<String> statements(String script) {
    StringBuilder code = new StringBuilder();
    for (String line : script.split("\n", -1)) {
      int comment = line.indexOf("--");
      code.append(comment < 0 ? line : line.substring(0, comment)).append('\n');
    }
    List<String> statements = new ArrayList<>();
    for (String s : code.toString().split(";")) {
      if (!s.isBlank()) {
        statements.add(s.strip());
      }
    }
    return statements;
  }
}
