package ai.chunkwise.tokenize;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * --conf keeps a URI as given (issue #20, item 1): it used to be a java.io.File, which turns
 * {@code scheme://authority/path} into {@code scheme:/authority/path}. A remote one (hdfs://) is fetched by the same
 * code as train-job's --conf, which train-job's HdfsLocationOptionsTest drives against a MiniDFSCluster.
 */
class ConfLocationTest {
    @Test
    void aConfGivenAsAFileUriWithAnAuthorityIsRead(@TempDir Path tmp) throws Exception {
        Path conf = tmp.resolve("job.conf");
        Path input = tmp.resolve("in.txt");
        Files.writeString(input, "a document\n");
        Files.writeString(conf, "tokenize { input = \"" + input + "\", output = \"" + tmp.resolve("out") + "\", "
                + "tokenizer = bytes, chunk-size = 4, chunks-per-seq = 2, format = xml-from-the-conf-file }\n");
        String uri = "file://" + conf.toAbsolutePath();   // file:///tmp/...: an empty authority, kept as "//"
        StringWriter err = new StringWriter();
        int code = TokenizeJob.commandLine().setErr(new PrintWriter(err, true)).execute("--conf", uri);
        assertEquals(2, code, err.toString());
        assertTrue(err.toString().contains("xml-from-the-conf-file"), "the file's own value is refused, so it was read: " + err);
    }
}
