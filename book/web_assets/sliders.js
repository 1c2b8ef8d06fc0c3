// Kernel-free slider figures, drawn from the widget state that the notebooks store.
//
// `sgd_utils.viz.widgets.slider_figure` saves every position of a figure as an image in nested
// ipywidgets Stacks, each driven by a SelectionSlider through a jslink (see its docstring). The
// general ipywidgets HTML manager that renders such state weighs 3.6 MB and blocks the page for
// about a second; the book's figures use only the nine widget models below, which this file
// draws in a few kilobytes, with native range inputs (labelled, keyboard and touch ready) and at
// first paint.
// The build (book/_ext/book_html.py) moves each image out of the page into its own file, so only
// the images shown are fetched; those a slider can reach next are fetched when it is touched.
//
// A page whose state holds any other widget model gets the full ipywidgets manager (from the book's
// own copy) instead of this file: the build decides, as it knows every model of the page.
(function () {
  "use strict";
  var STATE_TYPE = "application/vnd.jupyter.widget-state+json";
  var VIEW_TYPE = "application/vnd.jupyter.widget-view+json";
  var DRAWN = ["VBoxModel", "SelectionSliderModel", "StackModel", "HTMLModel", "LinkModel"];
  var PASSIVE = ["LayoutModel", "SliderStyleModel", "HTMLStyleModel", "DescriptionStyleModel"];
  var count = 0;
  var fetched = {};  // image sources already asked for

  function modelId(reference) {
    return typeof reference === "string" && reference.indexOf("IPY_MODEL_") === 0
      ? reference.slice("IPY_MODEL_".length) : null;
  }

  function Renderer(models) {
    this.models = models;
    this.drivers = {};  // slider model id -> [stack model id, ...], from the jslinks
    this.driverOf = {}; // stack model id -> slider model id
    this.value = {};    // slider model id -> its current index
    this.stacks = {};   // stack model id -> {element, children, built, shown}, once drawn
    var self = this;
    Object.keys(models).forEach(function (id) {
      var model = models[id];
      if (model.model_name !== "LinkModel") return;
      var source = model.state.source, target = model.state.target;
      if (source[1] === "index" && target[1] === "selected_index") {
        var slider = modelId(source[0]), stack = modelId(target[0]);
        (self.drivers[slider] = self.drivers[slider] || []).push(stack);
        self.driverOf[stack] = slider;
      }
    });
  }

  Renderer.prototype.state = function (id) {
    return (this.models[id] || { state: {} }).state;
  };

  // The position a stack shows: its slider's current one (sliders are drawn before the stacks
  // they drive), else the one stored.
  Renderer.prototype.position = function (stackId) {
    var slider = this.driverOf[stackId];
    return slider in this.value ? this.value[slider] : this.state(stackId).selected_index;
  };

  Renderer.prototype.layout = function (element, state) {
    var layout = this.state(modelId(state.layout));
    if (layout.width) element.style.width = layout.width;
    if (layout.max_width) element.style.maxWidth = layout.max_width;
    if (layout.display) element.style.display = layout.display;
    (state._dom_classes || []).forEach(function (name) { element.classList.add(name); });
    return element;
  };

  Renderer.prototype.render = function (id) {
    var model = this.models[id];
    var state = model.state;
    switch (model.model_name) {
      case "VBoxModel": {
        var box = this.layout(document.createElement("div"), state);
        box.classList.add("widget-vbox", "sgd-slider-figure");
        var self = this;
        state.children.forEach(function (child) { box.appendChild(self.render(modelId(child))); });
        return box;
      }
      case "HTMLModel": {
        var html = this.layout(document.createElement("div"), state);
        html.innerHTML = state.value;
        return html;
      }
      case "StackModel":
        return this.renderStack(id, state);
      case "SelectionSliderModel":
        return this.renderSlider(id, state);
    }
    throw new Error("cannot draw widget model " + model.model_name);
  };

  Renderer.prototype.renderStack = function (id, state) {
    // Only the selected child is built: the others (and their images) wait until chosen.
    var element = this.layout(document.createElement("div"), state);
    element.classList.add("sgd-stack");
    this.stacks[id] = { element: element, children: state.children.map(modelId), built: {},
                        shown: null };
    this.select(id, this.position(id));
    return element;
  };

  Renderer.prototype.select = function (id, index) {
    var stack = this.stacks[id];
    if (stack.shown === index) return;
    if (!(index in stack.built)) {
      stack.built[index] = this.render(stack.children[index]);
      stack.element.appendChild(stack.built[index]);
    }
    Object.keys(stack.built).forEach(function (i) {
      stack.built[i].hidden = Number(i) !== index;
    });
    stack.shown = index;
  };

  Renderer.prototype.renderSlider = function (id, state) {
    var self = this;
    var labels = state._options_labels;
    var inputId = "sgd-slider-" + ++count;
    var row = this.layout(document.createElement("div"), state);
    row.classList.add("sgd-slider");
    var label = document.createElement("label");
    label.htmlFor = inputId;
    label.textContent = state.description;
    var width = this.state(modelId(state.style)).description_width;
    if (width) label.style.width = width;
    var input = document.createElement("input");
    input.type = "range";
    input.id = inputId;
    input.min = 0;
    input.max = labels.length - 1;
    input.step = 1;
    input.value = state.index;
    var readout = document.createElement("output");
    readout.htmlFor = inputId;
    readout.setAttribute("aria-hidden", "true");  // the slider announces it as its value text
    row.append(label, input, readout);

    function show() {
      var index = Number(input.value);
      self.value[id] = index;
      readout.textContent = labels[index];
      input.setAttribute("aria-valuetext", labels[index]);
      (self.drivers[id] || []).forEach(function (stack) {
        if (self.stacks[stack]) self.select(stack, index);
      });
    }
    input.addEventListener("input", show);
    // Fetch the images this slider can reach from here before the reader moves it.
    function warm() { self.prefetch(id); }
    ["pointerenter", "focus", "touchstart"].forEach(function (name) {
      input.addEventListener(name, warm, { passive: true });
    });
    show();
    return row;
  };

  // The image source a model shows now: an HTML widget's own, a stack's selected child's.
  Renderer.prototype.source = function (id, index) {
    var model = this.models[id];
    if (model.model_name === "StackModel") {
      var i = index === undefined ? this.position(id) : index;
      return this.source(modelId(model.state.children[i]));
    }
    var match = /src="([^"]+)"/.exec(model.state.value || "");
    return match ? match[1] : null;
  };

  Renderer.prototype.prefetch = function (sliderId) {
    var self = this;
    var positions = this.state(sliderId)._options_labels.length;
    (this.drivers[sliderId] || []).forEach(function (stackId) {
      var stack = self.stacks[stackId];
      if (!stack || stack.element.closest("[hidden]")) return;  // only the stacks in view
      for (var i = 0; i < positions; i++) {
        var source = self.source(stackId, i);
        if (source && source.indexOf("data:") !== 0 && !fetched[source]) {
          fetched[source] = true;
          new Image().src = source;
        }
      }
    });
  };

  function start() {
    var stateScript = document.querySelector('script[type="' + STATE_TYPE + '"]');
    if (!stateScript) return;
    var models = JSON.parse(stateScript.textContent).state;
    var foreign = Object.keys(models).filter(function (id) {
      var name = models[id].model_name;
      return DRAWN.indexOf(name) < 0 && PASSIVE.indexOf(name) < 0;
    });
    // The build gives such a page the ipywidgets manager instead of this file; never half-draw.
    if (foreign.length) return;
    var renderer = new Renderer(models);
    document.querySelectorAll('script[type="' + VIEW_TYPE + '"]').forEach(function (view) {
      var id = JSON.parse(view.textContent).model_id;
      if (!(id in models)) return;
      view.replaceWith(renderer.render(id));
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
