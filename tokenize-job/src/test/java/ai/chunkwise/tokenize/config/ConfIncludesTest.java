package ai.chunkwise.tokenize.config;

import ai.chunkwise.tokenize.TokenizeJob;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Issue 20, item 13, for tokenize-job's --conf: a missing include is an error naming the file; a present one is read. */
class ConfIncludesTest {

    @Test
    void aMissingIncludeIsAnErrorNamingTheFileAndAPresentOneIsRead(@TempDir Path tmp) throws Exception {
        Path conf = tmp.resolve("job.conf");
        Files.writeString(conf, "include \"geometry.conf\"\ntokenize { input = \"in\", output = \"out\" }\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TokenizeSettings.load(Map.of(), conf.toFile()));
        assertTrue(e.getMessage().contains("include \"geometry.conf\" in " + conf + ": file " + tmp.resolve("geometry.conf")
                + " does not exist"), e.getMessage());

        // where users meet it: the command line, before any Spark work
        StringWriter err = new StringWriter();
        int code = TokenizeJob.commandLine().setErr(new PrintWriter(err)).execute("--conf", conf.toString());
        assertNotEquals(0, code);
        assertTrue(err.toString().contains("file " + tmp.resolve("geometry.conf") + " does not exist"), err.toString());

        Files.writeString(tmp.resolve("geometry.conf"), "tokenize { chunk-size = 16, chunks-per-seq = 3 }\n");
        TokenizeSettings s = TokenizeSettings.load(Map.of(), conf.toFile());
        assertEquals(16, s.chunkSize());
        assertEquals(3, s.chunksPerSeq());
    }
}
