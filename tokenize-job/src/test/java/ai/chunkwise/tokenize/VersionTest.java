package ai.chunkwise.tokenize;

import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import picocli.CommandLine;

import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.xpath.XPathFactory;
import java.io.File;
import java.io.PrintWriter;
import java.io.StringWriter;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** tokenize-job --version: the same string as the other jars, the Maven project version of the root pom. */
class VersionTest {
    @Test
    void versionIsTheMavenProjectVersion() throws Exception {
        Document pom = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(new File("../pom.xml"));
        String version = XPathFactory.newInstance().newXPath().evaluate("/project/version", pom).trim();
        CommandLine cli = TokenizeJob.commandLine();
        StringWriter out = new StringWriter();
        cli.setOut(new PrintWriter(out, true));
        assertEquals(0, cli.execute("--version"));
        assertEquals("chunkwise " + version, out.toString().trim());
        assertEquals("chunkwise tokenize-job " + version, TokenizeRunner.createdBy());
    }
}
