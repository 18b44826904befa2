-- Clicks from scripts, headless browsers and clients sending no User-Agent
-- are recorded as evidence for the fraud checks (net.automated_clicks, the
-- automated click flood alert) but never counted: they are stored with
-- valid = false (every click count reads valid clicks only) and
-- automated = true (which tells them from clicks on unknown codes).
ALTER TABLE clicks ADD COLUMN automated BOOLEAN NOT NULL DEFAULT FALSE;
