// A small, safe Markdown renderer for the answers: it builds DOM nodes (never HTML strings), so nothing a model
// writes can run as script. It knows what chat answers use: paragraphs, headings, bullet and numbered lists, code
// blocks (```), block quotes, and inline **bold**, *italic*, `code` and [links](https://...) to http(s) only.

/** The Markdown text as DOM nodes, for a container's replaceChildren(). */
export function renderMarkdown(text: string): Node[] {
  const blocks: Node[] = [];
  const lines = text.replace(/\r\n?/g, "\n").split("\n");
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (line.startsWith("```")) {
      const code: string[] = [];
      for (i++; i < lines.length && !lines[i].startsWith("```"); i++) {
        code.push(lines[i]);
      }
      i++; // the closing fence (or the end of an answer still streaming)
      const pre = document.createElement("pre");
      pre.append(Object.assign(document.createElement("code"), { textContent: code.join("\n") }));
      blocks.push(pre);
    } else if (/^#{1,6}\s/.test(line)) {
      const level = Math.min(line.indexOf(" "), 6);
      blocks.push(withInline(document.createElement(`h${Math.min(level + 2, 6)}`), line.slice(level + 1)));
      i++;
    } else if (LIST_ITEM.test(line)) {
      const ordered = /^\s*\d+[.)]\s/.test(line);
      const list = document.createElement(ordered ? "ol" : "ul");
      for (; i < lines.length && LIST_ITEM.test(lines[i]); i++) {
        list.append(withInline(document.createElement("li"), lines[i].replace(LIST_ITEM, "")));
      }
      blocks.push(list);
    } else if (line.startsWith(">")) {
      const quoted: string[] = [];
      for (; i < lines.length && lines[i].startsWith(">"); i++) {
        quoted.push(lines[i].replace(/^>\s?/, ""));
      }
      const quote = document.createElement("blockquote");
      quote.append(...renderMarkdown(quoted.join("\n")));
      blocks.push(quote);
    } else if (line.trim() === "") {
      i++;
    } else {
      const paragraph: string[] = [];
      for (; i < lines.length && lines[i].trim() !== "" && !startsBlock(lines[i]); i++) {
        paragraph.push(lines[i]);
      }
      const p = document.createElement("p");
      paragraph.forEach((text, n) => {
        if (n > 0) {
          p.append(document.createElement("br"));
        }
        appendInline(p, text);
      });
      blocks.push(p);
    }
  }
  return blocks;
}

const LIST_ITEM = /^\s*(?:[-*+]|\d+[.)])\s+/;

function startsBlock(line: string): boolean {
  return line.startsWith("```") || /^#{1,6}\s/.test(line) || LIST_ITEM.test(line) || line.startsWith(">");
}

function withInline<T extends HTMLElement>(element: T, text: string): T {
  appendInline(element, text);
  return element;
}

// `code` first (its content stays literal), then links, bold, italic.
const INLINE = /`([^`]+)`|\[([^\]]+)\]\(([^)\s]+)\)|\*\*(.+?)\*\*|__(.+?)__|\*([^*\s][^*]*?)\*|_([^_\s][^_]*?)_/;

function appendInline(parent: HTMLElement, text: string) {
  let rest = text;
  for (let match = INLINE.exec(rest); match; match = INLINE.exec(rest)) {
    parent.append(rest.slice(0, match.index));
    const [, code, label, href, bold, boldUnderscore, italic, italicUnderscore] = match;
    if (code !== undefined) {
      parent.append(Object.assign(document.createElement("code"), { textContent: code }));
    } else if (label !== undefined) {
      parent.append(link(label, href));
    } else if (bold !== undefined || boldUnderscore !== undefined) {
      parent.append(withInline(document.createElement("strong"), bold ?? boldUnderscore));
    } else {
      parent.append(withInline(document.createElement("em"), italic ?? italicUnderscore));
    }
    rest = rest.slice(match.index + match[0].length);
  }
  parent.append(rest);
}

/** A link that opens in a new tab, for http(s) addresses only; anything else (javascript:...) stays text. */
function link(label: string, href: string): Node {
  let url: URL;
  try {
    url = new URL(href);
  } catch {
    return document.createTextNode(label);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    return document.createTextNode(label);
  }
  const a = document.createElement("a");
  a.href = url.href;
  a.target = "_blank";
  a.rel = "noopener noreferrer";
  appendInline(a, label);
  return a;
}
