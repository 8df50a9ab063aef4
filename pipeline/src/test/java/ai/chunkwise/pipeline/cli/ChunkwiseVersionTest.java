package ai.chunkwise.pipeline.cli;

import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;

import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.xpath.XPathFactory;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** --version prints "chunkwise <the Maven project version>", read here from the parent pom itself. */
class ChunkwiseVersionTest {

    /** The version in the reactor's root pom.xml (the test runs in the pipeline module's directory). */
    static String projectVersion() throws Exception {
        Document pom = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(new File("../pom.xml"));
        return XPathFactory.newInstance().newXPath().evaluate("/project/version", pom).trim();
    }

    @Test
    void pipelineJarReportsTheMavenProjectVersion() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int code = PipelineCli.run(new PrintStream(out, true, StandardCharsets.UTF_8), System.err, "--version");
        assertEquals(0, code);
        assertEquals("chunkwise " + projectVersion(), out.toString(StandardCharsets.UTF_8).trim());
    }
}
