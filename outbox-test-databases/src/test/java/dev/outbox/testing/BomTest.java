package dev.outbox.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;

/**
 * outbox-bom keeps up with the build: it manages every published module (a module whose pom does
 * not set {@code maven.deploy.skip} to true) and nothing else, at the parent's version. A new
 * published module that is not added to the BOM fails here.
 */
class BomTest {

  private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

  @Test
  void theBomManagesExactlyThePublishedModulesAtTheParentsVersion() throws Exception {
    Document parent = parse(ROOT.resolve("pom.xml"));
    Set<String> published = new TreeSet<>();
    for (String module : texts(parent.getDocumentElement(), "modules", "module")) {
      Document pom = parse(ROOT.resolve(module).resolve("pom.xml"));
      String artifactId = text(pom.getDocumentElement(), "artifactId");
      String skip = text(pom.getDocumentElement(), "properties", "maven.deploy.skip");
      if (!"true".equals(skip) && !artifactId.equals("outbox-bom")) {
        published.add(artifactId);
      }
    }
    Document bom = parse(ROOT.resolve("outbox-bom/pom.xml"));
    Set<String> managed = new TreeSet<>();
    for (Element dependency :
        children(child(child(bom.getDocumentElement(), "dependencyManagement"), "dependencies"))) {
      assertThat(text(dependency, "groupId")).isEqualTo("dev.outbox");
      assertThat(text(dependency, "version")).isEqualTo("${project.version}");
      managed.add(text(dependency, "artifactId"));
    }

    assertThat(published).as("published modules").contains("outbox-api", "outbox-testkit");
    assertThat(managed).as("modules in outbox-bom").isEqualTo(published);
    assertThat(text(bom.getDocumentElement(), "version"))
        .as("outbox-bom's version")
        .isEqualTo(text(parent.getDocumentElement(), "version"));
  }

  private static Document parse(Path pom) throws Exception {
    assertThat(pom).exists();
    DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
    factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
    try (var in = Files.newInputStream(pom)) {
      return factory.newDocumentBuilder().parse(in);
    }
  }

  /** The text of the element at the path of direct children, or null when there is none. */
  private static String text(Element element, String... path) {
    Element e = element;
    for (String name : path) {
      e = child(e, name);
      if (e == null) {
        return null;
      }
    }
    return e.getTextContent().trim();
  }

  private static List<String> texts(Element element, String parent, String name) {
    List<String> result = new ArrayList<>();
    for (Element e : children(child(element, parent))) {
      if (e.getTagName().equals(name)) {
        result.add(e.getTextContent().trim());
      }
    }
    return result;
  }

  private static Element child(Element element, String name) {
    if (element == null) {
      return null;
    }
    for (Element e : children(element)) {
      if (e.getTagName().equals(name)) {
        return e;
      }
    }
    return null;
  }

  private static List<Element> children(Element element) {
    List<Element> result = new ArrayList<>();
    NodeList nodes = element.getChildNodes();
    for (int i = 0; i < nodes.getLength(); i++) {
      if (nodes.item(i).getNodeType() == Node.ELEMENT_NODE) {
        result.add((Element) nodes.item(i));
      }
    }
    return result;
  }
}
