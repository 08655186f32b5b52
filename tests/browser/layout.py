"""What axe-core does not check, run on every page state the accessibility audit visits (test_accessibility.py's
journeys, role by role, forms submitted empty included), right after axe-core on the same state:

- reflow (WCAG 1.4.10): no horizontal scrolling at 320 px and 375 px wide, nor at 200 % zoom of a 1280 px window;
- non-text contrast (WCAG 1.4.11): each visible form control's and button's boundary (its border, or its own
  background when it has no border) at least 3:1 against the background it sits on, computed in the page;
- focus indicators (WCAG 2.4.7, 1.4.11): each focusable element's outline or ring at least 3:1 against what is around;
- target size (WCAG 2.2, 2.5.8): each visible control at least 24 × 24 CSS pixels; only links with text may be
  smaller, when they are in a sentence (WCAG's "inline" exception) or stand apart from other targets (its spacing
  exception); buttons, checkboxes, radios, selects, icon links, pagination and the header's controls never.

Zoom: a browser zoomed to 200 % lays the page out exactly as a viewport half as wide in CSS pixels (1280 px → 640 CSS
px, media queries included); the device scale factor only changes how many device pixels draw a CSS pixel (and
`resolution` media queries, which the stylesheets do not use), so a 640 px wide viewport stands for it, and 320 px
for 400 % (WCAG's own example of 1.4.10). The viewport changes size on the page as it is, so a form's error state is
checked as it was submitted.
"""

from playwright.sync_api import Page

# 320 px: 1280 px at 400 % and WCAG's reflow width; 375 px: a common phone; 640 px: 1280 px at 200 %.
WIDTHS = (320, 375, 640)
DESKTOP = {"width": 1280, "height": 720}

# The elements wider than the page: the deepest ones (their ancestors only overflow because of them), with the
# element's tag, classes and text so the report says where to look.
OVERFLOW = r"""() => {
    const root = document.documentElement;
    if (root.scrollWidth <= root.clientWidth) return null;
    const describe = (element) => element.tagName.toLowerCase()
        + (element.id ? "#" + element.id : "")
        + (element.classList.length ? "." + [...element.classList].join(".") : "")
        + " « " + (element.textContent || "").replace(/\s+/g, " ").trim().slice(0, 40) + " »";
    // What scrolls inside a scroll wrapper does not widen the page, unless it is positioned out of the wrapper.
    const scrolls = (element) => element !== document.body
        && !["visible", "clip"].includes(getComputedStyle(element).overflowX);
    const wrapped = (element) => {
        for (let node = element.parentElement; node && node !== document.body; node = node.parentElement) {
            if (scrolls(node)) return !["absolute", "fixed"].includes(getComputedStyle(element).position);
        }
        return false;
    };
    const wide = [...document.body.querySelectorAll("*")].filter((element) => {
        const box = element.getBoundingClientRect();
        return box.width > 0 && box.right > root.clientWidth + 0.5 && !wrapped(element);
    });
    const deepest = wide.filter((element) => !wide.some((other) => other !== element && element.contains(other)));
    return {
        scrollWidth: root.scrollWidth,
        clientWidth: root.clientWidth,
        elements: deepest.slice(0, 5)
            .map((element) => `${describe(element)} (${Math.round(element.getBoundingClientRect().right)} px)`),
    };
}"""

# What the checks below share. Relative luminance and contrast ratio as WCAG 2 defines them; the background an
# element sits on is its ancestors' background colours composited from the page's white up (background images are not
# used by the stylesheets). Not visible: Bootstrap's visually-hidden(-focusable) elements, clipped to nothing until
# they have the focus, and what a closed <details> holds (laid out but not shown: checkVisibility says so).
PAGE_HELPERS = r"""
    const parse = (color) => {
        const parts = (color.match(/rgba?\(([^)]*)\)/) || [null, "0, 0, 0, 0"])[1].split(/[\s,/]+/).filter(Boolean);
        return parts.map(parseFloat).concat(parts.length === 3 ? [1] : []);
    };
    const over = ([r, g, b, a], [br, bg, bb]) => [r * a + br * (1 - a), g * a + bg * (1 - a), b * a + bb * (1 - a)];
    const channel = (value) => {
        const c = value / 255;
        return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    };
    const luminance = ([r, g, b]) => 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
    const contrast = (one, two) => {
        const [high, low] = [luminance(one), luminance(two)].sort((x, y) => y - x);
        return (high + 0.05) / (low + 0.05);
    };
    const backdrop = (element) => {
        const layers = [];
        for (let node = element; node instanceof Element; node = node.parentElement) {
            const color = parse(getComputedStyle(node).backgroundColor);
            if (color[3] > 0) layers.push(color);
            if (color[3] === 1) break;
        }
        return layers.reverse().reduce((below, layer) => over(layer, below), [255, 255, 255]);
    };
    const visible = (element) => {
        const box = element.getBoundingClientRect();
        const style = getComputedStyle(element);
        return box.width > 0 && box.height > 0 && element.checkVisibility({ visibilityProperty: true })
            && style.opacity !== "0" && (style.clip === "auto" || style.clip === "") && style.clipPath === "none";
    };
    const describe = (element) => element.tagName.toLowerCase()
        + (element.id ? "#" + element.id : "")
        + (element.classList.length ? "." + [...element.classList].join(".") : "")
        + (element.name ? `[name=${element.name}]` : "")
        + " « " + (element.textContent || element.value || element.getAttribute("aria-label") || "")
            .replace(/\s+/g, " ").trim().slice(0, 40) + " »";
    const focusable = "a[href], button, input:not([type=hidden]), select, textarea, summary, "
        + "[tabindex]:not([tabindex='-1'])";
"""


def with_helpers(body):
    """A function to evaluate in the page: `body`, with the helpers above."""
    return "() => {" + PAGE_HELPERS + body + "}"


# Each visible control's boundary: its border (all four sides) or its own background against what is around it.
CONTROLS = with_helpers(r"""
    const failures = [];
    const fields = "input:not([type=hidden]):not([type=submit]):not([type=button]):not([type=reset]), "
        + "select, textarea";
    for (const element of document.querySelectorAll(`${fields}, button, .btn, .page-link`)) {
        if (!visible(element) || element.disabled) continue;
        const style = getComputedStyle(element);
        // Checkboxes and radios the browser draws itself (appearance: auto): its own, contrasted, rendering.
        if (element.matches("input[type=checkbox], input[type=radio]") && style.appearance !== "none") continue;
        const around = backdrop(element.parentElement);
        const own = backdrop(element);
        const borders = ["Top", "Right", "Bottom", "Left"]
            .filter((side) => parseFloat(style[`border${side}Width`]) > 0 && style[`border${side}Style`] !== "none")
            .map((side) => parse(style[`border${side}Color`]))
            .filter((color) => color[3] > 0)
            .map((color) => contrast(over(color, around), around));
        const boundary = Math.min(...(borders.length === 4 ? borders : [1]));
        const ratio = Math.max(boundary, contrast(own, around));
        // A button drawn as text only (no border, no background of its own) is identified by its text.
        const textOnly = !element.matches(fields) && !borders.length && contrast(own, around) === 1;
        if (!textOnly && ratio < 3) failures.push(`${describe(element)}: ${ratio.toFixed(2)}:1`);
    }
    return failures;
""")

# Each visible focusable element's focus indicator, once its transitions are over: an outline or a box-shadow ring
# (2 px at least, mostly opaque) of 3:1 at least against the background around the element. Focus moved by a script
# after a keyboard one matches :focus-visible (the indicator the stylesheets draw) as a Tab would.
FOCUS_RINGS = with_helpers(r"""
    const finish = () => document.getAnimations().forEach((animation) => {
        try { animation.finish(); } catch (error) { /* an infinite animation */ }
    });
    const failures = [];
    let focused = 0;
    for (const element of document.querySelectorAll(focusable)) {
        if (!visible(element) || element.disabled) continue;
        element.focus({ preventScroll: true });
        if (document.activeElement !== element || !element.matches(":focus-visible")) continue;
        focused += 1;
        getComputedStyle(element).boxShadow;  // starts the transitions the focus triggers, to finish them at once
        finish();
        const style = getComputedStyle(element);
        const around = backdrop(element.parentElement);
        const rings = [];
        if (style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2) {
            rings.push(parse(style.outlineColor));
        }
        for (const shadow of style.boxShadow === "none" ? [] : style.boxShadow.split(/,(?![^(]*\))/)) {
            const lengths = shadow.replace(/rgba?\([^)]*\)/, "").trim().split(/\s+/).map(parseFloat);
            if (!shadow.includes("inset") && (lengths[3] || 0) >= 2) rings.push(parse(shadow));
        }
        const ratios = rings.filter((color) => color[3] >= 0.5).map((color) => contrast(over(color, around), around));
        const best = Math.max(0, ...ratios);
        const drawn = `${style.outlineColor}; ${style.boxShadow}`;
        if (best < 3) failures.push(`${describe(element)}: ${best.toFixed(2)}:1 (${drawn})`);
    }
    document.activeElement.blur();
    return { focused, failures };
""")

# The controls smaller than 24 × 24 CSS pixels. Every button, form control, icon link and the like must be 24 px at
# least; a link with text is excepted when it is in a sentence (laid out inline, in a block that has text of its own
# besides the link's: WCAG's "inline" exception), or when it stands alone far enough from any other target (WCAG's
# spacing exception: a 24 px circle centred on it meets no other target, nor the circle of another undersized one).
TARGETS = with_helpers(r"""
    const block = (element) => {
        let node = element.parentElement;
        while (node && getComputedStyle(node).display.startsWith("inline")) node = node.parentElement;
        return node;
    };
    const text = (node) => (node.textContent || "").replace(/\s+/g, "");
    const textLink = (element) => element.matches("a") && text(element).length > 0;
    const inSentence = (link) => {
        if (getComputedStyle(link).display !== "inline") return false;
        const around = block(link);
        return around !== null && text(around).length > text(link).length;
    };
    const targets = [...document.querySelectorAll(`${focusable}, [role=button]`)]
        .filter((element) => visible(element) && !element.disabled)
        .map((element) => ({ element, box: element.getBoundingClientRect() }));
    for (const target of targets) {
        target.small = target.box.width < 23.5 || target.box.height < 23.5;
        target.x = target.box.left + target.box.width / 2;
        target.y = target.box.top + target.box.height / 2;
    }
    const near = (target, box) => {
        const dx = Math.max(box.left - target.x, 0, target.x - box.right);
        const dy = Math.max(box.top - target.y, 0, target.y - box.bottom);
        return Math.hypot(dx, dy) < 12;
    };
    const spaced = (target) => targets.every((other) => other === target || other.element.contains(target.element)
        || target.element.contains(other.element)
        || (!near(target, other.box) && !(other.small && Math.hypot(other.x - target.x, other.y - target.y) < 24)));
    const excepted = (target) => textLink(target.element) && (inSentence(target.element) || spaced(target));
    const size = (box) => `${box.width.toFixed(1)} × ${box.height.toFixed(1)} px`;
    return targets
        .filter((target) => target.small && !excepted(target))
        .map((target) => `${describe(target.element)}: ${size(target.box)}`);
""")


class LayoutChecks:
    """Each page state checked at every width (overflow), and at the desktop width for contrast, focus indicators and
    target sizes (contrast and targets checked again at 320 px, where the header's menu and the tables change
    layout). Called by test_accessibility.py's audit after axe-core, on the same state: each state is reached once."""

    def __init__(self, page: Page):
        self.page = page
        self.findings = []
        self.focused = 0

    def __call__(self, where):
        try:
            self.check_controls(where, "1280 px")
            self.check_focus_rings(where)
            for width in WIDTHS:
                self.page.set_viewport_size({"width": width, "height": DESKTOP["height"]})
                overflow = self.page.evaluate(OVERFLOW)
                if overflow:
                    self.findings.append(
                        f"{where} à {width} px : défilement horizontal ({overflow['scrollWidth']} px pour"
                        f" {overflow['clientWidth']}) : " + " ; ".join(overflow["elements"])
                    )
                if width == WIDTHS[0]:
                    self.check_controls(where, f"{width} px")
        finally:
            self.page.set_viewport_size(DESKTOP)

    def check_controls(self, where, at):
        for failure in self.page.evaluate(CONTROLS):
            self.findings.append(f"{where} à {at} : contour de contrôle sous 3:1 : {failure}")
        for failure in self.page.evaluate(TARGETS):
            self.findings.append(f"{where} à {at} : cible sous 24 × 24 px : {failure}")

    def check_focus_rings(self, where):
        self.page.keyboard.press("Shift")  # a keyboard interaction first: the focus moves below show their indicator
        rings = self.page.evaluate(FOCUS_RINGS)
        self.focused += rings["focused"]
        for failure in rings["failures"]:
            self.findings.append(f"{where} : indicateur de focus sous 3:1 : {failure}")
