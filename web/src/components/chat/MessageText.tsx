// Message text as Markdown: react-markdown builds React elements from the syntax tree, so no
// HTML string is ever parsed. Raw HTML in the text shows as text (no rehype-raw), every link
// and image address goes through `safeUrl`, images show as links (the CSP allows no outside
// image, and an image could track its readers), and `@name` mentions are marked.
import { memo, type ComponentProps, type ReactNode } from 'react';
import Markdown, { type Components } from 'react-markdown';
import { safeUrl } from '../../lib/links';
import { splitMentions } from '../../lib/mentions';

interface MessageTextProps {
  text: string;
  /** The usernames the server resolved as mentioned (lower-cased). */
  mentions: readonly string[];
  me: string | null;
}

// The few shapes of the HTML syntax tree (hast) the mention plugin reads and writes.
interface HastText {
  type: 'text';
  value: string;
}
interface HastElement {
  type: 'element';
  tagName: string;
  properties: Record<string, unknown>;
  children: HastNode[];
}
type HastNode = HastText | HastElement | { type: string; children?: HastNode[] };

/** Text inside these is not read for mentions: code is quoted, a link's text is the link's. */
const NO_MENTIONS = new Set(['code', 'pre', 'a']);

function markMentions(node: HastNode, mentions: readonly string[], me: string | null): void {
  if (!('children' in node) || !node.children) return;
  if (node.type === 'element' && NO_MENTIONS.has((node as HastElement).tagName)) return;
  node.children = node.children.flatMap((child): HastNode[] => {
    if (child.type !== 'text') {
      markMentions(child, mentions, me);
      return [child];
    }
    return splitMentions((child as HastText).value, mentions).map((part) =>
      part.mention === undefined
        ? { type: 'text', value: part.text }
        : {
            type: 'element',
            tagName: 'span',
            properties: { className: me !== null && part.mention === me.toLowerCase() ? 'mention mention-me' : 'mention' },
            children: [{ type: 'text', value: part.text }],
          },
    );
  });
}

const rehypeMentions = (options: { mentions: readonly string[]; me: string | null }) => (tree: HastNode) =>
  markMentions(tree, options.mentions, options.me);

function Link({ href, children }: ComponentProps<'a'>) {
  if (!href) return <span className="unsafe-link">{children}</span>;
  return (
    <a href={href} target="_blank" rel="noopener noreferrer nofollow">
      {children}
    </a>
  );
}

function Image({ src, alt }: ComponentProps<'img'>) {
  const label: ReactNode = alt || (typeof src === 'string' ? src : '') || 'image';
  return typeof src === 'string' && src ? <Link href={src}>{label}</Link> : <span>{label}</span>;
}

/** A heading in a chat line is emphasis, not a document outline. */
function Heading({ children }: { children?: ReactNode }) {
  return (
    <p className="md-heading">
      <strong>{children}</strong>
    </p>
  );
}

const components: Components = {
  a: ({ href, children }) => <Link href={href}>{children}</Link>,
  img: ({ src, alt }) => <Image src={src} alt={alt} />,
  h1: Heading,
  h2: Heading,
  h3: Heading,
  h4: Heading,
  h5: Heading,
  h6: Heading,
};

const urlTransform = (url: string) => safeUrl(url) ?? '';

export const MessageText = memo(function MessageText({ text, mentions, me }: MessageTextProps) {
  return (
    <div className="message-text">
      <Markdown
        components={components}
        urlTransform={urlTransform}
        rehypePlugins={mentions.length > 0 ? [[rehypeMentions, { mentions, me }]] : []}
      >
        {text}
      </Markdown>
    </div>
  );
});
