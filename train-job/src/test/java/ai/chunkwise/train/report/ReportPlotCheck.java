package ai.chunkwise.train.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.jfree.chart.ChartRenderingInfo;
import org.jfree.chart.plot.XYPlot;

import javax.imageio.ImageIO;
import java.awt.Color;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Checks a run's report.html against its metrics.jsonl, read here independently: the page holds the expected plots
 * as PNG images, and the loss plot's pixels show a train-loss point at every logged (step, loss) and a held-out
 * point at every logged (step, eval_loss).
 */
public final class ReportPlotCheck {
    private static final Color TRAIN = new Color(0x1f77b4);
    private static final Color HELD_OUT = new Color(0xd62728);

    private ReportPlotCheck() {
    }

    public static void check(Path runDir, List<String> expectedTitles) throws Exception {
        String html = Files.readString(runDir.resolve(RunReportPage.FILE_NAME));
        Matcher m = Pattern.compile("<img alt=\"([^\"]+)\"[^>]*src=\"data:image/png;base64,([^\"]+)\"").matcher(html);
        List<String> titles = new ArrayList<>();
        List<BufferedImage> images = new ArrayList<>();
        while (m.find()) {
            titles.add(m.group(1));
            BufferedImage image = ImageIO.read(new ByteArrayInputStream(Base64.getDecoder().decode(m.group(2))));
            assertNotNull(image, "not a PNG: " + m.group(1));
            assertEquals(RunReportPage.WIDTH, image.getWidth());
            assertEquals(RunReportPage.HEIGHT, image.getHeight());
            images.add(image);
        }
        assertEquals(expectedTitles, titles);
        assertTrue(!html.contains("src=\"http") && !html.contains("<script src"), "self-contained: no external resource");

        List<double[]> train = new ArrayList<>();
        List<double[]> heldOut = new ArrayList<>();
        List<JsonNode> entries = new ArrayList<>();
        ObjectMapper json = new ObjectMapper();
        for (String line : Files.readAllLines(runDir.resolve("metrics.jsonl"))) {
            JsonNode e = json.readTree(line);
            entries.add(e);
            train.add(new double[] {e.get("step").asDouble(), e.get("loss").asDouble()});
            if (e.has("eval_loss")) {
                heldOut.add(new double[] {e.get("step").asDouble(), e.get("eval_loss").asDouble()});
            }
        }
        // where JFreeChart puts a value on a plot of this size (the axes span the data, as in the report)
        RunCharts.Chart lossChart = RunCharts.of(entries, Double.NaN).get(0);
        ChartRenderingInfo info = new ChartRenderingInfo();
        lossChart.chart().createBufferedImage(RunReportPage.WIDTH, RunReportPage.HEIGHT, info);
        Rectangle2D area = info.getPlotInfo().getDataArea();
        XYPlot plot = lossChart.chart().getXYPlot();
        BufferedImage page = images.get(0);
        for (double[] p : train) {
            assertColorNear(page, plot, area, p, TRAIN, "train loss at step " + p[0]);
        }
        assertTrue(!heldOut.isEmpty(), "the run logged no eval_loss");
        for (double[] p : heldOut) {
            assertColorNear(page, plot, area, p, HELD_OUT, "held-out loss at step " + p[0]);
        }
    }

    private static void assertColorNear(BufferedImage image, XYPlot plot, Rectangle2D area, double[] point, Color color,
                                        String what) {
        int x = (int) Math.round(plot.getDomainAxis().valueToJava2D(point[0], area, plot.getDomainAxisEdge()));
        int y = (int) Math.round(plot.getRangeAxis().valueToJava2D(point[1], area, plot.getRangeAxisEdge()));
        for (int dx = -2; dx <= 2; dx++) {
            for (int dy = -2; dy <= 2; dy++) {
                if (new Color(image.getRGB(x + dx, y + dy)).equals(color)) {
                    return;
                }
            }
        }
        throw new AssertionError(what + " (" + point[1] + "): no " + color + " pixel near (" + x + ", " + y + ")");
    }
}
