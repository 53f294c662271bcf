"""Door: the CRM's pages inside Saleor's dashboard (app extensions and the app page).

The pages are a small React application built from ``frontend/`` into ``static/crm-dashboard/``;
these views only hand the browser that build, one HTML shell per page, under the app's
``/dashboard/`` or the plugin's ``/plugins/saleor.crm/dashboard/``.
"""
